"""Calibrated magnitudes: shrink a model's return forecasts by what they were worth on unseen
sessions, so a model without skill forecasts what persistence forecasts (a zero return) instead
of adding noise, and a model with skill keeps its ranking."""

from __future__ import annotations

import numpy as np

# The floor of the slope: a model without skill forecasts a thousandth of its raw returns, which
# is persistence to four decimals of MASE, and keeps an ordering whose IC can still be measured
# (a zero would leave every forecast equal and the model's ranking unjudgeable).
MIN_SLOPE = 1e-3


def calibration_slope(predicted: np.ndarray, actual: np.ndarray) -> float:
    """The least-squares slope of realised on forecast returns (with an intercept) over every
    pair with a known outcome, clipped to [MIN_SLOPE, 1]; MIN_SLOPE when the forecasts do not
    vary or there are too few pairs."""
    predicted, actual = np.asarray(predicted, np.float64), np.asarray(actual, np.float64)
    known = np.isfinite(predicted) & np.isfinite(actual)
    p, a = predicted[known], actual[known]
    if len(p) < 2:
        return MIN_SLOPE
    centred = p - p.mean()
    variance = float((centred * centred).sum())
    if variance <= 0:
        return MIN_SLOPE
    slope = float((centred * (a - a.mean())).sum()) / variance
    return float(np.clip(slope, MIN_SLOPE, 1.0))
