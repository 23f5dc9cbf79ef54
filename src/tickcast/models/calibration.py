"""Calibrated magnitudes: shrink a model's return forecasts by what they were worth on unseen
sessions, so a model without skill forecasts what persistence forecasts (a zero return) instead
of adding noise, and a model with skill keeps its ranking.

A pooled forecast has two parts with very different precision: how it orders the tickers of a
session (its deviation from the session's mean forecast: thousands of nearly independent
samples) and how it moves the whole session (the session's mean forecast: one sample a session,
dominated by market noise). Each part gets its own least-squares slope of realised on forecast
returns over the validation samples; a slope counts only when it is significant (t >= 2) and
never amplifies (clipped to [MIN_SLOPE, 1]).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pydantic import BaseModel

# The floor of a slope: a model without skill forecasts a thousandth of its raw returns, which
# is persistence to four decimals of MASE, and keeps an ordering whose IC can still be measured
# (a zero would leave every forecast equal and the model's ranking unjudgeable).
MIN_SLOPE = 1e-3
# A slope whose t-statistic is below this is noise: the part is shrunk to MIN_SLOPE.
MIN_T = 2.0


class Calibration(BaseModel):
    cross_section: float = 1.0  # multiplies each forecast's deviation from its session's mean
    market: float = 1.0  # multiplies the session's mean forecast

    def apply(self, predicted: np.ndarray, sessions: np.ndarray) -> np.ndarray:
        """Calibrated forecasts; `sessions` groups the forecasts made for one session."""
        means = session_means(predicted, sessions)
        calibrated: np.ndarray = self.cross_section * (predicted - means) + self.market * means
        return calibrated


def fit_calibration(predicted: np.ndarray, actual: np.ndarray, sessions: np.ndarray) -> Calibration:
    """Both slopes from validation forecasts, realised returns and their sessions."""
    predicted, actual = np.asarray(predicted, np.float64), np.asarray(actual, np.float64)
    known = np.isfinite(predicted) & np.isfinite(actual)
    p, a, s = predicted[known], actual[known], np.asarray(sessions)[known]
    if len(p) < 3:
        return Calibration(cross_section=MIN_SLOPE, market=MIN_SLOPE)
    forecast_means, actual_means = session_means(p, s), session_means(a, s)
    _, first = np.unique(s, return_index=True)
    return Calibration(
        cross_section=calibration_slope(p - forecast_means, a - actual_means),
        market=calibration_slope(forecast_means[first], actual_means[first]),
    )


def calibration_slope(predicted: np.ndarray, actual: np.ndarray) -> float:
    """The least-squares slope of realised on forecast values (with an intercept), clipped to
    [MIN_SLOPE, 1]; MIN_SLOPE when it is not significant (t < MIN_T), when the forecasts do
    not vary or there are too few pairs."""
    predicted, actual = np.asarray(predicted, np.float64), np.asarray(actual, np.float64)
    known = np.isfinite(predicted) & np.isfinite(actual)
    p, a = predicted[known], actual[known]
    if len(p) < 3:
        return MIN_SLOPE
    centred = p - p.mean()
    variance = float(centred @ centred)
    if variance <= 0:
        return MIN_SLOPE
    slope = float(centred @ (a - a.mean())) / variance
    residuals = a - a.mean() - slope * centred
    error = math.sqrt(float(residuals @ residuals) / (len(p) - 2) / variance)
    if error > 0 and slope / error < MIN_T:
        return MIN_SLOPE
    return float(np.clip(slope, MIN_SLOPE, 1.0))


def session_means(values: np.ndarray, sessions: np.ndarray) -> np.ndarray:
    """Each value's session mean over the session's finite values (same shape as `values`): one
    sample without a number moves no other sample's calibrated forecast."""
    finite = pd.Series(np.where(np.isfinite(values), values, np.nan))
    means: np.ndarray = finite.groupby(np.asarray(sessions)).transform("mean").to_numpy()
    return means


def row_means(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(T,) mean of each row's finite values where `mask`; NaN for a row without any."""
    valid = mask & np.isfinite(values)
    counts = valid.sum(axis=1)
    totals = np.where(valid, values, 0.0).sum(axis=1)
    means: np.ndarray = np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)
    return means
