"""The newest model input for a dataset version, built by the very code that built its windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from tickcast.config import Settings
from tickcast.data.calendar import trading_calendar
from tickcast.db.connection import open_connection
from tickcast.db.prices import load_prices
from tickcast.features.matrix import FeatureMatrix, feature_matrix
from tickcast.features.panel import PanelError, build_panel
from tickcast.features.scaling import Scalers, scale
from tickcast.features.spec import FeatureSpec
from tickcast.features.windows import windows


class StaleDataError(PanelError):
    """Stored prices end before the session the input must end on."""


@dataclass(frozen=True)
class PredictionInput:
    window: np.ndarray  # (1, sequence, stocks, features), scaled like the training windows
    tickers: list[str]
    anchor_date: date  # the last session in the window
    target_date: date  # the session the forecast is for
    last_close: np.ndarray  # (stocks,) raw close on anchor_date


def build_prediction_input(
    settings: Settings,
    spec: FeatureSpec,
    scalers: Scalers,
    as_of: date | None = None,
    allow_stale: bool = False,
) -> PredictionInput:
    """The window ending on `as_of` (default: the latest completed session) for `spec`.

    Prices are read from the spec's panel start with its tickers, features, warm-up and
    ragged-history policy, so the window equals the one a dataset built on the same data would
    hold. Missing tickers and, unless `allow_stale`, data ending before `as_of` are refused.
    """
    calendar = trading_calendar(settings.calendar.exchange, settings.calendar.first_session)
    as_of = as_of or calendar.latest_completed_session()
    matrix = spec_matrix(settings, spec, as_of, allow_stale)
    last = len(matrix.dates) - 1
    window = scale(windows(matrix.values, spec.sequence_length, [last]), scalers)
    anchor = matrix.dates[last].date()
    target = anchor
    for _ in range(spec.horizon):
        target = calendar.next_session(target)
    return PredictionInput(window, list(matrix.tickers), anchor, target, matrix.close[last])


def spec_matrix(
    settings: Settings, spec: FeatureSpec, end: date, allow_stale: bool = False
) -> FeatureMatrix:
    """The spec's feature matrix from its panel start to `end`, from the stored prices."""
    calendar = trading_calendar(settings.calendar.exchange, settings.calendar.first_session)
    with open_connection(settings) as conn:
        prices = load_prices(conn, spec.tickers, end=end)
    _check_fresh(prices, spec.tickers, end, allow_stale)
    panel = build_panel(
        prices, calendar, spec.policy, end=end, start=spec.panel_start, tickers=spec.tickers
    )
    return feature_matrix(panel, spec.features, spec.warmup_sessions, spec.horizon)


def _check_fresh(prices: pd.DataFrame, tickers: list[str], as_of: date, allow_stale: bool) -> None:
    last = prices.groupby("ticker")["trade_date"].max() if not prices.empty else pd.Series()
    missing = [t for t in tickers if t not in last.index]
    if missing:
        raise PanelError(f"required tickers have no stored prices up to {as_of}: {missing}")
    stale = {t: d for t, d in last.items() if d < as_of}
    if stale and not allow_stale:
        listed = ", ".join(f"{t} ({d})" for t, d in sorted(stale.items()))
        raise StaleDataError(
            f"stale data: the input must end on {as_of} but the last stored session of "
            f"{listed} is earlier; run `tickcast ingest` (or allow stale data explicitly)"
        )
