"""Intervals recalibrated on a production model's own newest outcomes.

The bundle's calibration was fitted on validation sessions that may lie months behind the
sessions a model forecasts. Once the version has enough scored forecasts, its bands are scored
against what actually happened on the newest sessions — each stored forecast keeps its raw band
(centre and scale) — and the conformal score quantiles of that rolling window replace the
bundle's, for the model and the volatility baseline alike. Only outcomes before the forecast's
as-of session are read, so a forecast is the same whether it is made before or after that
session is scored.

On top of that base (the rolling window's, or the bundle's until the window holds enough), the
quantiles adapt online (tickcast.models.adaptive_intervals, `intervals.adaptive_step`): offsets
moved after every scored session, kept in PostgreSQL (interval_adaptation) so that a restored
backup forecasts the same bands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tickcast.config import Settings
from tickcast.db.connection import Connection
from tickcast.db.forecasts import band_scores
from tickcast.db.interval_adaptation import latest_adaptation, shares_above, store_adaptation
from tickcast.models.adaptive_intervals import Adaptation, adapted
from tickcast.models.intervals import IntervalCalibration, score_calibration
from tickcast.models.quantile_models import IntervalForecaster
from tickcast.registry.production_model import ProductionModel


@dataclass(frozen=True)
class LiveCalibration:
    model: IntervalCalibration
    baseline: IntervalCalibration
    sessions: int  # scored sessions the rolling window held (0: the bundle's calibration)
    adaptation: Adaptation | None = None  # the online offsets applied (None: off)

    def describe(self) -> str:
        base = (
            f"recalibrated on {self.model.samples:,} outcomes of its newest {self.sessions} "
            "scored sessions"
            if self.sessions
            else f"the model's validation calibration ({self.model.samples:,} outcomes)"
        )
        adapted_over = self.adaptation.sessions if self.adaptation else 0
        if adapted_over:
            plural = "s" if adapted_over != 1 else ""
            base += f", adapted online over {adapted_over} scored session{plural}"
        return base


def live_calibration(
    conn: Connection,
    settings: Settings,
    production: ProductionModel,
    intervals: IntervalForecaster,
    as_of: date,
    store: bool = False,
) -> LiveCalibration | None:
    """The calibrations for forecasts made on `as_of`: the rolling window's once the version has
    `intervals.recalibration_min_sessions` scored sessions (else the bundle's), moved by the
    online offsets; None when both are off. With `store`, the offsets folded here are kept."""
    config = settings.intervals
    rolling = _rolling(conn, settings, production, intervals.levels, as_of)
    if rolling is None and config.adaptive_step is None:
        return None
    model, baseline, sessions = rolling or (intervals.calibration, intervals.baseline, 0)
    if config.adaptive_step is None:
        return LiveCalibration(model, baseline, sessions)
    adaptation = current_adaptation(conn, settings, production, intervals.levels, as_of, store)
    return LiveCalibration(
        adapted(model, adaptation.model),
        adapted(baseline, adaptation.baseline),
        sessions,
        adaptation,
    )


def current_adaptation(
    conn: Connection,
    settings: Settings,
    production: ProductionModel,
    levels: list[float],
    as_of: date,
    store: bool = False,
) -> Adaptation:
    """The version's offsets for forecasts made on `as_of`: its newest stored state, with the
    scored sessions before `as_of` that it has not folded in yet folded in (and, with `store`,
    each kept)."""
    config = settings.intervals
    assert config.adaptive_step is not None
    found = latest_adaptation(conn, production.model_name, production.version, levels, as_of)
    state = (
        Adaptation(
            levels=levels,
            model=list(found["model_offsets"]),
            baseline=list(found["baseline_offsets"]),
            sessions=found["sessions"],
            last_session=found["session"],
        )
        if found
        else Adaptation.start(levels)
    )
    pending = shares_above(
        conn, production.model_name, production.version, levels, state.last_session, as_of
    )
    for session, model_above, baseline_above in pending:
        state = state.updated(
            session, model_above, baseline_above, config.adaptive_step, config.adaptive_bound
        )
        if store:
            store_adaptation(
                conn,
                {
                    "model_name": production.model_name,
                    "model_version": production.version,
                    "session": session,
                    "sessions": state.sessions,
                    "levels": levels,
                    "model_offsets": state.model,
                    "baseline_offsets": state.baseline,
                },
            )
    return state


def _rolling(
    conn: Connection,
    settings: Settings,
    production: ProductionModel,
    levels: list[float],
    as_of: date,
) -> tuple[IntervalCalibration, IntervalCalibration, int] | None:
    """The rolling-window calibrations of the model and the baseline, and the sessions they
    hold; None while the version has fewer than `intervals.recalibration_min_sessions` scored
    sessions (or it is off)."""
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
    return (
        score_calibration(scores.model, levels),
        score_calibration(scores.baseline, levels),
        scores.sessions,
    )
