"""Intervals recalibrated on a production model's own newest outcomes.

The bundle's calibration was fitted on validation sessions that may lie months behind the
sessions a model forecasts. Once the version has enough scored forecasts, its bands are scored
against what actually happened on the newest sessions — each stored forecast keeps its raw band
(centre and scale) — and the conformal score quantiles of that rolling window replace the
bundle's, for the model and the volatility baseline alike. Only outcomes before the forecast's
as-of session are read, so a forecast is the same whether it is made before or after that
session is scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tickcast.config import Settings
from tickcast.db.connection import Connection
from tickcast.db.forecasts import band_scores
from tickcast.models.intervals import IntervalCalibration, score_calibration
from tickcast.registry.production_model import ProductionModel


@dataclass(frozen=True)
class LiveCalibration:
    model: IntervalCalibration
    baseline: IntervalCalibration
    sessions: int  # scored sessions the window held

    def describe(self) -> str:
        return (
            f"recalibrated on {self.model.samples:,} outcomes of its newest {self.sessions} "
            "scored sessions"
        )


def live_calibration(
    conn: Connection,
    settings: Settings,
    production: ProductionModel,
    levels: list[float],
    as_of: date,
) -> LiveCalibration | None:
    """The rolling-window calibrations for forecasts made on `as_of`, or None while the version
    has fewer than `intervals.recalibration_min_sessions` scored sessions (or it is off)."""
    config = settings.intervals
    if config.recalibration_sessions is None:
        return None
    scores = band_scores(
        conn,
        production.model_name,
        production.version,
        as_of - timedelta(days=1),
        config.recalibration_sessions,
    )
    if scores.sessions < config.recalibration_min_sessions:
        return None
    return LiveCalibration(
        score_calibration(scores.model, levels),
        score_calibration(scores.baseline, levels),
        scores.sessions,
    )
