"""Is the candidate really better than production on the same rows? One-sided paired tests.

After calibration two models' forecasts differ little, and most differences between candidates
are noise; promotion can require that the win is unlikely to be one (promotion.significance).
- Diebold-Mariano on absolute price errors: per session, the candidate's mean absolute error
  less production's; the mean of that series over its standard error.
- Rank IC difference: per session, the candidate's rank IC less production's.
Both standard errors are Newey-West (tickcast.models.newey_west: a day's difference is
correlated with the next's); p-values use the normal approximation (hundreds of test sessions).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel

from tickcast.models.cross_section import session_skill
from tickcast.models.newey_west import newey_west_t


class PairedTest(BaseModel):
    method: Literal["diebold_mariano", "rank_ic_difference"]
    statistic: float  # positive: the candidate is better
    p_value: float  # one-sided: the chance of a win this large without a real difference
    sessions: int


def diebold_mariano(
    candidate_errors: np.ndarray, production_errors: np.ndarray, horizon: int = 1
) -> PairedTest | None:
    """Errors shaped (sessions, tickers), NaN where unknown; None for fewer than 3 sessions."""
    with np.errstate(invalid="ignore"):
        both = np.isfinite(candidate_errors) & np.isfinite(production_errors)
        candidate = np.where(both, np.abs(candidate_errors), np.nan)
        production = np.where(both, np.abs(production_errors), np.nan)
    usable = both.any(axis=1)
    differences = np.nanmean(production[usable], axis=1) - np.nanmean(candidate[usable], axis=1)
    return _test("diebold_mariano", differences, horizon)


def rank_ic_difference(
    candidate: np.ndarray, production: np.ndarray, actual: np.ndarray
) -> PairedTest | None:
    """Forecasts and realised returns shaped (sessions, tickers); sessions where either model
    has no ordering are left out; None for fewer than 3 sessions."""
    sessions, tickers = (np.asarray(grid) for grid in np.indices(actual.shape))

    def skill(predicted: np.ndarray) -> dict[int, float]:
        found = session_skill(predicted.ravel(), actual.ravel(), sessions.ravel(), tickers.ravel())
        return dict(zip(found.index.astype(int), found["rank_ic"].astype(float), strict=True))

    ours, theirs = skill(candidate), skill(production)
    shared = sorted(set(ours) & set(theirs))
    return _test("rank_ic_difference", np.array([ours[s] - theirs[s] for s in shared]), 1)


def _test(
    method: Literal["diebold_mariano", "rank_ic_difference"],
    differences: np.ndarray,
    horizon: int,
) -> PairedTest | None:
    statistic = newey_west_t(differences, horizon)
    if statistic is None:
        return None
    return PairedTest(
        method=method,
        statistic=statistic,
        p_value=0.5 * math.erfc(statistic / math.sqrt(2)),
        sessions=len(differences),
    )
