"""The t-statistic of a mean of a per-session series whose sessions are not independent.

A day's rank IC, spread or error difference is correlated with the next day's (overlapping
targets, persistent regimes); the plain t = mean / (sd / sqrt(T)) then overstates significance.
The Newey-West (Bartlett kernel) long-run variance counts the first L autocovariances, with
L = max(horizon - 1, floor(4 (T / 100)^(2/9))) and no small-sample correction: equal to
statsmodels' OLS on a constant with cov_type="HAC", maxlags=L, use_correction=False.
"""

from __future__ import annotations

import math

import numpy as np


def newey_west_lags(count: int, horizon: int = 1) -> int:
    """L for a series of `count` sessions of `horizon`-session targets."""
    return max(horizon - 1, math.floor(4 * math.pow(count / 100, 2 / 9)))


def newey_west_t(values: np.ndarray, horizon: int = 1) -> float | None:
    """mean / its Newey-West standard error; None for fewer than 3 values or no variance."""
    series = np.asarray(values, dtype=np.float64)
    count = len(series)
    if count < 3:
        return None
    lags = min(newey_west_lags(count, horizon), count - 1)
    centred = series - series.mean()
    variance = float(centred @ centred)
    for lag in range(1, lags + 1):
        variance += 2 * (1 - lag / (lags + 1)) * float(centred[lag:] @ centred[:-lag])
    if not variance > count * (1e-12 * float(np.abs(series).max())) ** 2:
        return None  # constant up to rounding
    return float(series.mean()) / math.sqrt(variance / count**2)
