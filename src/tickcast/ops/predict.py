"""The "predict" step: tomorrow's forecast per ticker from the production model, stored and exported."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
from pydantic import BaseModel, Field

from tickcast.artifacts import artifact_uri, open_artifact
from tickcast.config import Settings
from tickcast.data.calendar import configured_calendar
from tickcast.db.connection import open_connection
from tickcast.db.forecasts import upsert_predictions
from tickcast.db.migrate import ensure_schema
from tickcast.features.prediction_input import SkippedTicker, build_prediction_input
from tickcast.ops.live_calibration import LiveCalibration, live_calibration
from tickcast.registry.bundle import ForecasterBundle
from tickcast.registry.production_bundle import load_production_bundle
from tickcast.registry.production_model import ProductionModel


class Forecast(BaseModel):
    ticker: str
    target_date: date
    predicted_log_return: float
    predicted_close: float
    last_close: float
    last_close_date: date
    # Quantiles of the next close at the model's levels, calibrated; the volatility baseline's
    # beside them (None: a model without intervals, or a ticker without recent volatility).
    quantile_levels: list[float] | None = None
    predicted_quantiles: list[float] | None = None
    baseline_quantiles: list[float] | None = None
    # The raw bands (centre, scale of the log return) the calibrations scored: stored so that
    # later forecasts can be recalibrated on this one's outcome; not shown
    interval_centre: float | None = Field(None, exclude=True)
    interval_scale: float | None = Field(None, exclude=True)
    baseline_centre: float | None = Field(None, exclude=True)
    baseline_scale: float | None = Field(None, exclude=True)
    # The one-line baselines' forecasts (tickcast.models.baselines) of the same return, stored
    # for the monitor to score beside the model's; None for a bundle saved without them
    reversal_log_return: float | None = Field(None, exclude=True)
    market_log_return: float | None = Field(None, exclude=True)

    def stored(self) -> dict[str, object]:
        """Every field, the raw bands too."""
        return {name: getattr(self, name) for name in type(self).model_fields}


class PredictResult(BaseModel):
    """The forecasts; with no production model yet (a normal state: bootstrap) there are none."""

    as_of: date
    target_date: date
    model: ProductionModel | None
    forecasts: list[Forecast]
    skipped: list[SkippedTicker] = []  # tickers without a fresh, complete window, and why
    export_uri: str | None
    interval_calibration: str | None = None  # which calibration the bands used (None: no bands)


def predict(
    settings: Settings, as_of: date | None = None, allow_stale: bool = False
) -> PredictResult:
    """Forecast the session after `as_of` (default: the latest completed session) with the model
    the production alias names now, and store it."""
    from tickcast.ops.resolve_production import resolve_production  # MLflow: here only

    return predict_with(settings, as_of, resolve_production(settings), allow_stale)


def predict_with(
    settings: Settings,
    as_of: date | None,
    production: ProductionModel | None,
    allow_stale: bool = False,
) -> PredictResult:
    """Forecast the session after `as_of` with `production` (resolved by the caller: the
    pipeline's "resolve production" step) and store it; None: bootstrap, nothing to forecast."""
    calendar = configured_calendar(settings)
    as_of = as_of or calendar.latest_completed_session()
    if production is None:
        target = calendar.next_session(as_of)
        return PredictResult(
            as_of=as_of, target_date=target, model=None, forecasts=[], export_uri=None
        )
    bundle = load_production_bundle(settings, production)
    live = None
    with open_connection(settings) as conn:
        ensure_schema(conn)
        if bundle.intervals is not None:
            live = live_calibration(conn, settings, production, bundle.intervals, as_of, store=True)
    target_date, forecasts, skipped = forecast_with(settings, bundle, as_of, allow_stale, live=live)
    rows = [
        {
            **f.stored(),
            "model_name": production.model_name,
            "model_version": production.version,
            "run_id": production.run_id,
            "dataset_id": production.dataset_id,
        }
        for f in forecasts
    ]
    with open_connection(settings) as conn:
        upsert_predictions(conn, rows)
    calibration = calibration_used(bundle, live)
    export = _export(settings, as_of, target_date, production, forecasts, calibration)
    return PredictResult(
        as_of=as_of,
        target_date=target_date,
        model=production,
        forecasts=forecasts,
        skipped=skipped,
        export_uri=export,
        interval_calibration=calibration,
    )


def calibration_used(bundle: ForecasterBundle, live: LiveCalibration | None) -> str | None:
    """Which calibration a bundle's bands used, in words (None: no bands)."""
    if bundle.intervals is None:
        return None
    if live is not None:
        return live.describe()
    return f"the model's validation calibration ({bundle.intervals.calibration.samples:,} outcomes)"


def forecast_with(
    settings: Settings,
    bundle: ForecasterBundle,
    as_of: date,
    allow_stale: bool = False,
    tickers: list[str] | None = None,
    live: LiveCalibration | None = None,
) -> tuple[date, list[Forecast], list[SkippedTicker]]:
    """The target session, one forecast per ticker with a fresh, complete window ending on
    `as_of` (built with the model's own features and scalers) and the skipped tickers with
    their reasons; nothing is stored. The bands use `live`'s calibrations when given, else the
    bundle's."""
    intervals = bundle.intervals
    halflife = intervals.volatility_halflife_sessions if intervals else None
    window = build_prediction_input(
        settings,
        bundle.spec,
        bundle.scalers,
        as_of,
        allow_stale,
        tickers,
        halflife,
        bundle.baselines,
    )
    sessions = np.zeros(len(window.windows), np.int64)
    returns, bands = bundle.forecast(window.windows, sessions, window.volatility)
    quantiles = baseline = baseline_bands = None
    if intervals is not None and bands is not None:
        baseline_bands = intervals.baseline_bands(window.volatility)
        quantiles = (live.model if live else intervals.calibration).apply_band(*bands)
        baseline = (live.baseline if live else intervals.baseline).apply_band(*baseline_bands)

    def known(values: tuple[np.ndarray, np.ndarray] | None, part: int, i: int) -> float | None:
        return float(values[part][i]) if values and np.isfinite(values[part][i]) else None

    def closes(log_returns: np.ndarray | None, i: int) -> list[float] | None:
        if log_returns is None or not np.isfinite(log_returns[i]).all():
            return None
        return [float(window.last_close[i] * np.exp(q)) for q in log_returns[i]]

    skipped = list(window.skipped)
    with np.errstate(over="ignore", invalid="ignore"):
        predicted = window.last_close * np.exp(returns)
    usable = np.isfinite(returns) & np.isfinite(predicted) & (predicted > 0)
    for i in np.flatnonzero(~usable):  # never stored or served: a forecast is a number
        skipped.append(
            SkippedTicker(
                ticker=window.tickers[i],
                reason=f"no finite forecast (the model gave {returns[i]:g} from a last close of "
                f"{window.last_close[i]:g}): check its stored prices (tickcast validate)",
            )
        )
    forecasts = [
        Forecast(
            ticker=ticker,
            target_date=window.target_date,
            predicted_log_return=float(returns[i]),
            predicted_close=float(window.last_close[i] * np.exp(returns[i])),
            last_close=float(window.last_close[i]),
            last_close_date=window.anchor_date,
            quantile_levels=intervals.levels if intervals else None,
            predicted_quantiles=closes(quantiles, i),
            baseline_quantiles=closes(baseline, i),
            interval_centre=known(bands, 0, i),
            interval_scale=known(bands, 1, i),
            baseline_centre=known(baseline_bands, 0, i),
            baseline_scale=known(baseline_bands, 1, i),
            reversal_log_return=_finite(window.baselines.get("reversal"), i),
            market_log_return=_finite(window.baselines.get("market"), i),
        )
        for i, ticker in enumerate(window.tickers)
        if usable[i]
    ]
    return window.target_date, forecasts, sorted(skipped, key=lambda s: s.ticker)


def _finite(values: np.ndarray | None, i: int) -> float | None:
    return float(values[i]) if values is not None and np.isfinite(values[i]) else None


def _export(
    settings: Settings,
    as_of: date,
    target: date,
    production: ProductionModel,
    forecasts: list[Forecast],
    interval_calibration: str | None,
) -> str:
    """latest_predictions.json and history/<target>.json for consumers that want files."""
    document = {
        "generated_at": datetime.now(UTC).isoformat(),
        "as_of": as_of.isoformat(),
        "target_date": target.isoformat(),
        "model": production.model_dump(mode="json"),
        "predictions": [f.model_dump(mode="json") for f in forecasts],
        "interval_calibration": interval_calibration,
    }
    payload = json.dumps(document, indent=2).encode()
    latest = artifact_uri(settings, "predictions", "latest_predictions.json")
    for uri in (
        latest,
        artifact_uri(settings, "predictions", "history", f"{target.isoformat()}.json"),
    ):
        with open_artifact(uri, "wb") as file:
            file.write(payload)
    return latest
