"""The "monitor" step: score every forecast whose actual is now known, roll the metrics over a
window of sessions next to persistence and the one-line baselines (their forecasts are stored
beside each forecast, from the same stored prices), and measure feature drift against the
training data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tickcast.config import EvaluationSettings, Settings
from tickcast.data.calendar import configured_calendar
from tickcast.data.jumps import recent_quarantines
from tickcast.db.connection import Connection, open_connection
from tickcast.db.forecasts import latest_scored_date, score_predictions, scored_rows
from tickcast.db.migrate import ensure_schema
from tickcast.features.dataset import load_dataset
from tickcast.features.prediction_input import lookback_start, spec_matrix, stored_tickers
from tickcast.models.baselines import BASELINES
from tickcast.models.drift import reference_bins, stability
from tickcast.models.intervals import IntervalMetrics, interval_metrics
from tickcast.models.metrics import ForecastMetrics, forecast_metrics
from tickcast.ops.results import FeatureDrift, MonitorResult
from tickcast.registry.production_bundle import load_production_bundle
from tickcast.registry.production_model import ProductionModel


def monitor(settings: Settings, as_of: date | None = None) -> MonitorResult:
    """The "monitor" step: score, rolling metrics and drift of the model the alias names now."""
    from tickcast.ops.resolve_production import resolve_production  # MLflow: here only

    return monitor_model(settings, as_of, resolve_production(settings))


def monitor_model(
    settings: Settings, as_of: date | None, production: ProductionModel | None
) -> MonitorResult:
    """Score every forecast whose outcome is known; rolling metrics next to persistence; the
    drift of `production` (resolved by the caller: the in-process daily run has it already)."""
    calendar = configured_calendar(settings)
    as_of = as_of or calendar.latest_completed_session()
    window = settings.monitoring.window_sessions
    with open_connection(settings) as conn:
        ensure_schema(conn)
        held = recent_quarantines(conn, settings, as_of)
        scored = score_predictions(
            conn, settings.mlflow.model_name, as_of, {t: q.since for t, q in held.items()}
        )
        rows = scored_rows(conn, settings.mlflow.model_name, as_of, window)
    rolling, baseline = (
        scored_metrics(rows, settings.evaluation) if not rows.empty else (None, None)
    )
    intervals, interval_baseline = scored_intervals(rows) if not rows.empty else (None, None)
    baselines = scored_baselines(rows, settings.evaluation) if not rows.empty else {}
    drift = feature_drift(settings, production, as_of) if production else []
    return MonitorResult(
        as_of=as_of,
        scored=scored,
        held={ticker: quarantine.reason for ticker, quarantine in held.items()},
        window_sessions=int(rows["target_date"].nunique()) if not rows.empty else 0,
        rolling=rolling,
        rolling_persistence=baseline,
        rolling_baselines=baselines,
        rolling_intervals=intervals,
        rolling_intervals_baseline=interval_baseline,
        drift=drift,
        max_psi=max((d.psi for d in drift), default=None),
        production=production,
    )


class RollingPoint(BaseModel):
    """Rolling metrics over the window of sessions ending on `target_date`."""

    target_date: date
    model: ForecastMetrics
    persistence: ForecastMetrics
    baselines: dict[str, ForecastMetrics] = {}  # the stored baselines' on the same rows
    intervals: IntervalMetrics | None = None  # the stored intervals on the same rows
    intervals_baseline: IntervalMetrics | None = None


def performance_history(conn: Connection, settings: Settings, sessions: int) -> list[RollingPoint]:
    """The rolling metrics of the newest `sessions` scored sessions, each over the
    `monitoring.window_sessions` sessions ending on it, as the monitor step computes them."""
    window = settings.monitoring.window_sessions
    newest = latest_scored_date(conn, settings.mlflow.model_name)
    if newest is None:
        return []
    rows = scored_rows(conn, settings.mlflow.model_name, newest, sessions + window - 1)
    return rolling_history(rows, window, settings.evaluation)[-sessions:]


def rolling_history(
    rows: pd.DataFrame, window: int, evaluation: EvaluationSettings
) -> list[RollingPoint]:
    """One point per scored target date, pooling the rows of the `window` dates ending on it."""
    dates = sorted(rows["target_date"].unique())
    points = []
    for i, day in enumerate(dates):
        pooled = rows[rows["target_date"].isin(dates[max(0, i - window + 1) : i + 1])]
        model, persistence = scored_metrics(pooled, evaluation)
        band, baseline = scored_intervals(pooled)
        points.append(
            RollingPoint(
                target_date=day,
                model=model,
                persistence=persistence,
                baselines=scored_baselines(pooled, evaluation),
                intervals=band,
                intervals_baseline=baseline,
            )
        )
    return points


def scored_metrics(
    rows: pd.DataFrame, evaluation: EvaluationSettings
) -> tuple[ForecastMetrics, ForecastMetrics]:
    """The model's and persistence's metrics on scored rows (persistence: a zero log return),
    across tickers per target date for the IC figures."""
    metrics = _scoring(rows, evaluation)
    return metrics(rows["predicted_log_return"].to_numpy()), metrics(np.zeros(len(rows)))


def scored_baselines(
    rows: pd.DataFrame, evaluation: EvaluationSettings
) -> dict[str, ForecastMetrics]:
    """Each one-line baseline's metrics on the scored rows, from the forecasts stored beside
    the model's (a row without one: a zero return, as persistence); a baseline no row has is
    left out."""
    found = {}
    metrics = _scoring(rows, evaluation)
    for name in BASELINES:
        column = f"{name}_log_return"
        if column not in rows:
            continue
        forecasts = pd.to_numeric(rows[column], errors="coerce").to_numpy(np.float64)
        if np.isfinite(forecasts).any():
            found[name] = metrics(np.nan_to_num(forecasts, nan=0.0))
    return found


def _scoring(rows: pd.DataFrame, evaluation: EvaluationSettings) -> Callable[..., ForecastMetrics]:
    """forecast_metrics of predicted log returns against the scored rows' outcomes, across
    tickers per target date."""
    return partial(
        forecast_metrics,
        actual=rows["actual_log_return"].to_numpy(),
        last_close=rows["last_close"].to_numpy(),
        sessions=rows["target_date"].to_numpy(),
        tickers=rows["ticker"].to_numpy(),
        evaluation=evaluation,
    )


def scored_intervals(
    rows: pd.DataFrame,
) -> tuple[IntervalMetrics | None, IntervalMetrics | None]:
    """Coverage, width and pinball loss of the stored quantiles on scored rows, and the
    volatility baseline's on the same rows; (None, None) when no row has intervals. Rows at other
    levels than the newest row's (a model configured otherwise) are left out."""
    if "predicted_quantiles" not in rows:
        return None, None
    rows = rows[rows["predicted_quantiles"].notna() & rows["baseline_quantiles"].notna()]
    if rows.empty:
        return None, None
    levels = list(rows["quantile_levels"].iloc[-1])
    rows = rows[rows["quantile_levels"].map(lambda found: list(found) == levels)]
    last = rows["last_close"].to_numpy()[:, None]
    actual = rows["actual_log_return"].to_numpy()

    def judged(column: str) -> IntervalMetrics:
        closes = np.array(rows[column].tolist(), dtype=np.float64)
        return interval_metrics(
            np.log(closes / last),
            actual,
            levels,
            sessions=rows["target_date"].to_numpy(),
            tickers=rows["ticker"].to_numpy(),
            volatility=pd.to_numeric(rows["baseline_scale"], errors="coerce").to_numpy(float),
        )

    return judged("predicted_quantiles"), judged("baseline_quantiles")


def feature_drift(
    settings: Settings, production: ProductionModel, as_of: date
) -> list[FeatureDrift]:
    """PSI per feature: the last `drift_sessions` sessions against the model's training rows,
    pooled across tickers, on quantile bins of the training distribution."""
    bundle = load_production_bundle(settings, production)
    bins = settings.monitoring.drift_bins
    reference = _training_bins(settings, bundle.spec.dataset_id, bins)
    calendar = configured_calendar(settings)
    drift = settings.monitoring.drift_sessions
    start = lookback_start(calendar, bundle.spec, as_of, drift)
    universe = sorted(stored_tickers(settings))  # the forecasts' universe: predict's matrix
    recent = spec_matrix(settings, bundle.spec, as_of, universe, start)[0].values[-drift:]
    return [
        FeatureDrift(feature=name, psi=stability(*reference[i], recent[:, :, i].ravel()))
        for i, name in enumerate(bundle.spec.features)
    ]


_BINS: dict[tuple[str, int], list[tuple[np.ndarray, np.ndarray]]] = {}


def _training_bins(
    settings: Settings, dataset_id: str, bins: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per feature, the quantile bin edges of the dataset's training rows and their shares;
    kept per (content-addressed) dataset id, which names the same rows in any store."""
    if (dataset_id, bins) not in _BINS:
        version, arrays = load_dataset(settings, dataset_id)
        training = arrays.matrix.values[: version.splits["train"].last_row + 1]
        _BINS[(dataset_id, bins)] = [
            reference_bins(training[:, :, i].ravel(), bins) for i in range(training.shape[2])
        ]
    return _BINS[(dataset_id, bins)]
