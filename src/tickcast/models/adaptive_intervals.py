"""Intervals that adapt online, per session, to each version's own outcomes.

Split conformal on a rolling window of outcomes (tickcast.ops.live_calibration) covers as
promised while the window looks like tomorrow; after a volatility break it lags: its scores
are from the calm before. On top of the window's score quantiles, each level gets an offset
(score units) moved after every scored session by how often that session's outcomes fell above
the quantile actually issued, towards the promised share:

    offset <- offset + step x (share above - (1 - level))

This is online quantile tracking, the proportional part of conformal PID control (Angelopoulos,
Candès & Tibshirani 2023) and adaptive conformal inference (Gibbs & Candès 2021) on the score
scale: on any sequence the long-run share above each quantile approaches the promise, and after
a break it recovers within tens of sessions. It composes with the rolling recalibration (the
window gives the base, the offsets correct what the window lags) rather than replacing it.
Bounded: one session moves an offset by at most `step`, and an offset stays within +-`bound`,
so a band never becomes infinite; the quantiles stay in order.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from pydantic import BaseModel

from tickcast.models.intervals import IntervalCalibration


class Adaptation(BaseModel):
    """The offsets of a version's quantiles (model and volatility baseline), after `sessions`
    scored sessions up to `last_session` were folded in."""

    levels: list[float]
    model: list[float]
    baseline: list[float]
    sessions: int = 0
    last_session: date | None = None

    @classmethod
    def start(cls, levels: list[float]) -> Adaptation:
        """No outcome seen yet: every offset 0."""
        return cls(levels=list(levels), model=[0.0] * len(levels), baseline=[0.0] * len(levels))

    def updated(
        self,
        session: date,
        model_above: np.ndarray,
        baseline_above: np.ndarray,
        step: float,
        bound: float,
    ) -> Adaptation:
        """The offsets after one scored session: the share of its outcomes above each issued
        quantile, for the model's quantiles and the baseline's (NaN: nothing scored, unchanged)."""
        return Adaptation(
            levels=self.levels,
            model=tracked(np.asarray(self.model), model_above, self.levels, step, bound).tolist(),
            baseline=tracked(
                np.asarray(self.baseline), baseline_above, self.levels, step, bound
            ).tolist(),
            sessions=self.sessions + 1,
            last_session=session,
        )


def tracked(
    offsets: np.ndarray, above: np.ndarray, levels: list[float], step: float, bound: float
) -> np.ndarray:
    """One quantile-tracking step of each level's offset, clipped to +-bound; a level whose
    share above is unknown (NaN) keeps its offset."""
    share = np.asarray(above, np.float64)
    moved = offsets + step * (share - (1 - np.asarray(levels, np.float64)))
    moved = np.where(np.isfinite(share), moved, offsets)
    clipped: np.ndarray = np.clip(moved, -bound, bound)
    return clipped


def adapted(calibration: IntervalCalibration, offsets: list[float]) -> IntervalCalibration:
    """`calibration`'s score quantiles moved by the offsets, kept in order."""
    moved = np.maximum.accumulate(np.asarray(calibration.score_quantiles) + np.asarray(offsets))
    return IntervalCalibration(
        levels=calibration.levels, score_quantiles=moved.tolist(), samples=calibration.samples
    )


def shares_above(scores: np.ndarray, issued: np.ndarray) -> np.ndarray:
    """Per level, the share of one session's scores (samples,) above the issued score quantiles
    (levels,); NaN for a session without a finite score."""
    scores = np.asarray(scores, np.float64)
    scores = scores[np.isfinite(scores)]
    if len(scores) == 0:
        return np.full(len(issued), np.nan)
    shares: np.ndarray = (scores[:, None] > np.asarray(issued)[None, :]).mean(axis=0)
    return shares
