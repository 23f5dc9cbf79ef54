"""What the daily steps hand each other: plain models, cheap to import (no torch, no MLflow), so
a step that only judges them (decide) starts in a fraction of a second."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from tickcast.models.intervals import IntervalMetrics
from tickcast.models.metrics import ForecastMetrics
from tickcast.registry.production_model import ProductionModel


class FeatureDrift(BaseModel):
    feature: str
    psi: float


class MonitorResult(BaseModel):
    as_of: date
    scored: int  # rows scored by this run
    # Quarantined tickers whose forecasts from the quarantine on wait, unscored, with the reason
    held: dict[str, str] = {}
    window_sessions: int  # sessions with scored forecasts in the rolling window
    rolling: ForecastMetrics | None  # pooled over the window; None before the first score
    rolling_persistence: ForecastMetrics | None  # "tomorrow = today" on the same rows
    # The one-line baselines stored beside each forecast, on the same rows (empty: none stored)
    rolling_baselines: dict[str, ForecastMetrics] = {}
    # The stored intervals on the window's scored rows, and the volatility baseline's.
    rolling_intervals: IntervalMetrics | None = None
    rolling_intervals_baseline: IntervalMetrics | None = None
    drift: list[FeatureDrift]  # production model's features, recent sessions vs training rows
    max_psi: float | None
    production: ProductionModel | None
