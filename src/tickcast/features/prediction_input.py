"""The newest model inputs for every ticker that can be forecast, built by the very code that
built the dataset's windows; the others are listed with the reason and skipped."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

import numpy as np
from pydantic import BaseModel

from tickcast.config import Settings
from tickcast.data.calendar import TradingCalendar, configured_calendar
from tickcast.data.jumps import quarantined_tickers
from tickcast.data.universe import stored_universe
from tickcast.db.connection import open_connection
from tickcast.db.prices import last_stored_dates, load_prices, prices_version
from tickcast.features.dataset import minimum_history
from tickcast.features.matrix import FeatureMatrix, feature_matrix
from tickcast.features.panel import PanelError, TickerDecision, build_panel
from tickcast.features.samples import Samples, gather_windows, usable_windows
from tickcast.features.scaling import Scalers, scale
from tickcast.features.spec import FeatureSpec
from tickcast.models.baselines import Baselines
from tickcast.models.intervals import ewma_volatility

# Sessions of prices read for a forecast. The exponential indicators (MACD's 26-session EMA, the
# 14-session Wilder averages of RSI and ATR) forget their start as (1 - alpha)^n: after 750
# sessions that is below 1e-22, far under float64's resolution, so the window equals the one
# computed over the whole history, at a fraction of the cost for a long history.
PREDICTION_LOOKBACK_SESSIONS = 750


# Feature matrices computed in this process, newest last (see spec_matrix).
_COMPUTED: OrderedDict[tuple[object, ...], tuple[FeatureMatrix, list[TickerDecision]]] = (
    OrderedDict()
)
_COMPUTED_KEPT = 4
_COMPUTED_LOCK = threading.Lock()  # the service computes forecasts from several threads


class StaleDataError(PanelError):
    """No ticker has a price on the session the inputs must end on."""


class SkippedTicker(BaseModel):
    ticker: str
    reason: str


@dataclass(frozen=True)
class PredictionInput:
    windows: np.ndarray  # (tickers, sequence, features), scaled like the training windows
    tickers: list[str]  # the forecastable tickers, in the order of `windows`
    anchor_date: date  # the last session in every window
    target_date: date  # the session the forecasts are for
    last_close: np.ndarray  # (tickers,) raw close on anchor_date
    skipped: list[SkippedTicker]
    volatility: np.ndarray  # (tickers,) recent realised volatility (NaN when not asked for)
    # Each one-line baseline's forecast (tickers,), when the caller gave the fitted baselines
    baselines: dict[str, np.ndarray]


def build_prediction_input(
    settings: Settings,
    spec: FeatureSpec,
    scalers: Scalers,
    as_of: date | None = None,
    allow_stale: bool = False,
    tickers: list[str] | None = None,
    volatility_halflife: float | None = None,
    baselines: Baselines | None = None,
) -> PredictionInput:
    """Windows ending on `as_of` (default: the latest completed session) for every ticker of
    `tickers` (default: the configured ones, else every stored one) that has a price that day
    and a fully defined window; with `allow_stale`, ending on the last stored session instead
    when nothing is stored for `as_of` yet. With `volatility_halflife`, each ticker's recent
    realised volatility on that session too (what its interval is scaled by); with `baselines`,
    their forecasts from the same prices."""
    calendar = configured_calendar(settings)
    as_of = as_of or calendar.latest_completed_session()
    last_prices = stored_tickers(settings, tickers, as_of)
    newest = max(last_prices.values(), default=as_of)
    if newest < as_of and not allow_stale:
        raise StaleDataError(
            f"stale data: the inputs must end on {as_of} but the newest stored session is "
            f"{newest}; run `tickcast ingest` (or allow stale data explicitly)"
        )
    end = min(as_of, newest)  # prices years old are read up to their last session
    universe = tickers or sorted(last_prices)
    matrix, decisions = spec_matrix(
        settings, spec, end, universe, lookback_start(calendar, spec, end)
    )
    anchor = matrix.dates[-1].date()
    row = len(matrix.dates) - 1
    usable = usable_windows(matrix.defined, spec.sequence_length)[row]
    skipped = [
        SkippedTicker(ticker=d.ticker, reason=_left_out(d, last_prices, matrix.dates[-1].date()))
        for d in decisions
        if not d.kept
    ]
    quarantined = {d.ticker: d.reason for d in decisions if d.kept and d.quarantined}
    columns = []
    for column, ticker in enumerate(matrix.tickers):
        if usable[column]:
            columns.append(column)
        else:
            reason = quarantined.get(ticker) or _why_not(matrix, column, spec)
            skipped.append(SkippedTicker(ticker=ticker, reason=reason))
    samples = Samples(np.full(len(columns), row, np.int64), np.asarray(columns, np.int64))
    target = anchor
    for _ in range(spec.horizon):
        target = calendar.next_session(target)
    return PredictionInput(
        windows=gather_windows(scale(matrix.values, scalers), samples, spec.sequence_length),
        tickers=[matrix.tickers[c] for c in columns],
        anchor_date=anchor,
        target_date=target,
        last_close=matrix.close[row, columns],
        skipped=sorted(skipped, key=lambda s: s.ticker),
        volatility=(
            ewma_volatility(matrix.adjusted_close, volatility_halflife)[row, columns]
            if volatility_halflife is not None
            else np.full(len(columns), np.nan)
        ),
        baselines=(
            baselines.forecast(matrix.adjusted_close, samples.rows, samples.columns)
            if baselines is not None
            else {}
        ),
    )


def stored_tickers(
    settings: Settings, tickers: list[str] | None = None, as_of: date | None = None
) -> dict[str, date]:
    """The last stored session of each of `tickers` (default: the configured ones, else every
    stored one) that has prices — with a loaded universe and `as_of`, of those that are members
    that day (a ticker that has left is not stale); sorted, this is the universe forecasts are
    made for."""
    with open_connection(settings) as conn:
        stored = last_stored_dates(conn, tickers or settings.tickers or None)
        universe = stored_universe(conn) if as_of is not None else None
    if universe is None or as_of is None:
        return stored
    return {t: last for t, last in stored.items() if universe.member_on(t, as_of)}


def lookback_start(
    calendar: TradingCalendar, spec: FeatureSpec, end: date, sessions: int = 0
) -> date:
    """The first session of prices to read for features on the last `sessions` sessions up to
    `end` that equal the ones computed over the whole history (the same session for any
    `sessions` the standard lookback covers, so those matrices are computed once)."""
    lookback = max(
        PREDICTION_LOOKBACK_SESSIONS,
        2 * minimum_history(spec.policy, spec.warmup_sessions) + sessions,
    )
    return calendar.sessions_ending(calendar.session_on_or_before(end), lookback + 1)[0]


def spec_matrix(
    settings: Settings,
    spec: FeatureSpec,
    end: date,
    tickers: list[str] | None = None,
    start: date | None = None,
) -> tuple[FeatureMatrix, list[TickerDecision]]:
    """The spec's feature matrix over the stored sessions from `start` (default: the first) to
    `end` of `tickers` (default: the configured ones, else every stored one), with the panel's
    decisions per ticker.

    Kept (read-only) for the next call with the same database, features, range and tickers
    while the prices it was computed from are unchanged: predict and monitor of one day, and
    the policies of a backtest, compute it once."""
    calendar = configured_calendar(settings)
    universe = tickers or settings.tickers or None
    with open_connection(settings) as conn:
        key = (
            settings.database.model_dump_json(),
            spec.model_dump_json(exclude={"dataset_id"}),
            end,
            start,
            tuple(universe) if universe is not None else None,
            settings.validation.model_dump_json(),
            prices_version(conn),
        )
        with _COMPUTED_LOCK:
            if (kept := _COMPUTED.get(key)) is not None:
                _COMPUTED.move_to_end(key)
                return kept
        prices = load_prices(conn, universe, end=end, start=start)
        membership = stored_universe(conn)
        quarantine = quarantined_tickers(conn, prices, settings.validation)
    panel = build_panel(
        prices,
        calendar,
        min_sessions=minimum_history(spec.policy, spec.warmup_sessions),
        max_gap_sessions=spec.policy.max_gap_sessions,
        end=end,
        tickers=universe,
        quarantined=quarantine,
        membership=membership,
    )
    matrix = feature_matrix(panel, spec.feature_settings, spec.warmup_sessions, spec.horizon)
    selected = matrix.select(spec.features)
    for array in (selected.values, selected.targets, selected.close, selected.filled):
        array.setflags(write=False)
    selected.defined.setflags(write=False)
    with _COMPUTED_LOCK:
        _COMPUTED[key] = (selected, panel.decisions)
        while len(_COMPUTED) > _COMPUTED_KEPT:
            _COMPUTED.popitem(last=False)
    return selected, panel.decisions


def _stale(last: date, day: date) -> str:
    return f"stale: last price {last}, not {day}"


def _left_out(decision: TickerDecision, last_prices: dict[str, date], day: date) -> str:
    """Staleness for a ticker whose prices stop before `day` (the panel, reading only the
    lookback, may see too few of them, or none), else the panel's reason."""
    last = last_prices.get(decision.ticker)
    if last is not None and last < day and not decision.quarantined:
        return _stale(last, day)
    return decision.reason


def _why_not(matrix: FeatureMatrix, column: int, spec: FeatureSpec) -> str:
    """Why ticker `column` has no usable window on the last session."""
    present = np.flatnonzero(np.isfinite(matrix.close[:, column]))
    last = matrix.dates[present[-1]].date() if len(present) else None
    if last is not None and last < matrix.dates[-1].date():
        return _stale(last, matrix.dates[-1].date())
    defined = np.flatnonzero(matrix.defined[:, column])
    needed = spec.warmup_sessions + spec.sequence_length
    if len(defined) < spec.sequence_length:
        return f"too little history: {len(present)} sessions, needs {needed}"
    return f"a gap of more than {spec.policy.max_gap_sessions} sessions in its last window"
