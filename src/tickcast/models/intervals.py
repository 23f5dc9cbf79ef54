"""Forecast intervals: quantiles of the next log return, made honest by split-conformal calibration.

Every family (and the volatility baseline) gives, per sample, raw quantiles at the configured
levels. Calibration reduces them to a centre (the midpoint of the outermost pair) and a scale (half
their distance), scores each validation sample by where its realised return fell in those units,
(actual - centre) / scale, and keeps the conformal quantile of the scores at each level. A
calibrated quantile is centre + scale x that score quantile: monotone in the level (the score
quantiles are sorted), as wide as the model says where it expects a big move, and, on samples
exchangeable with the validation ones, covering as often as the level promises (split conformal
prediction, normalised by the model's own scale).

The baseline interval, the "persistence" of uncertainty, is a zero-centred Gaussian on recent
realised volatility: an exponentially weighted mean of squared daily log returns.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pydantic import BaseModel

# Scales below this (log return units) are floored: a model that claims certainty is not believed.
MIN_SCALE = 1e-6


class IntervalCalibration(BaseModel):
    """Conformal score quantiles at each level, fitted on `samples` validation samples."""

    levels: list[float]
    score_quantiles: list[float]
    samples: int

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated quantiles (samples, levels) from raw ones (samples, levels)."""
        return self.apply_band(*centre_and_scale(raw))

    def apply_band(self, centre: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Calibrated quantiles (samples, levels) from raw bands' centres and scales."""
        calibrated: np.ndarray = np.asarray(centre)[:, None] + np.asarray(scale)[
            :, None
        ] * np.asarray(self.score_quantiles)
        return calibrated


def centre_and_scale(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The midpoint of the outermost quantiles and half their distance (floored at MIN_SCALE)."""
    raw = np.asarray(raw, np.float64)
    low, high = raw.min(axis=1), raw.max(axis=1)
    return (low + high) / 2, np.maximum((high - low) / 2, MIN_SCALE)


def fit_interval_calibration(
    raw: np.ndarray, actual: np.ndarray, levels: list[float]
) -> IntervalCalibration:
    """Score quantiles from validation raw quantiles (samples, levels) and realised returns.

    Finite-sample conformal ranks: the ceil((n + 1) q)-th smallest score for a level above 1/2,
    the floor((n + 1) q)-th for one below (clipped to the sample), so each tail is covered at
    least as often as promised."""
    return band_calibration(*centre_and_scale(raw), actual, levels)


def band_calibration(
    centre: np.ndarray, scale: np.ndarray, actual: np.ndarray, levels: list[float]
) -> IntervalCalibration:
    """The same from raw bands' centres and scales (samples,) and realised returns."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = (np.asarray(actual, np.float64) - centre) / np.asarray(scale, np.float64)
    return score_calibration(scores, levels)


def score_calibration(scores: np.ndarray, levels: list[float]) -> IntervalCalibration:
    """The conformal score quantile at each level from the scores (actual - centre) / scale
    (non-finite ones are left out)."""
    scores = np.asarray(scores, np.float64)
    scores = np.sort(scores[np.isfinite(scores)])
    n = len(scores)
    if n == 0:
        raise ValueError("interval calibration needs samples with known outcomes")
    quantiles = []
    for level in levels:
        rank = math.ceil((n + 1) * level) if level >= 0.5 else math.floor((n + 1) * level)
        quantiles.append(float(scores[min(max(rank, 1), n) - 1]))
    return IntervalCalibration(
        levels=list(levels), score_quantiles=sorted(quantiles), samples=int(n)
    )


def volatility_quantiles(volatility: np.ndarray, levels: list[float]) -> np.ndarray:
    """The baseline's raw quantiles: a zero-centred Gaussian with the recent volatility."""
    from statistics import NormalDist

    z = np.array([NormalDist().inv_cdf(level) for level in levels])
    quantiles: np.ndarray = np.asarray(volatility, np.float64)[:, None] * z[None, :]
    return quantiles


def ewma_volatility(close: np.ndarray, halflife_sessions: float) -> np.ndarray:
    """(T, tickers) the square root of an exponentially weighted mean of squared daily log
    returns up to and including each session (its own return known at its close); NaN until a
    ticker has two closes. Missing sessions are skipped, not counted as zero moves."""
    close = np.asarray(close, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        returns = np.full_like(close, np.nan)
        returns[1:] = np.log(close[1:] / close[:-1])
    squared = pd.DataFrame(returns**2).ewm(halflife=halflife_sessions, ignore_na=True).mean()
    volatility: np.ndarray = np.sqrt(squared.to_numpy())
    volatility[~np.isfinite(close)] = np.nan
    return volatility


class IntervalMetrics(BaseModel):
    """How the central interval (outermost levels) and all quantiles did on `samples` outcomes."""

    samples: int
    nominal: float  # the coverage the central interval promises
    coverage: float | None = None
    width_pct: float | None = None  # mean width, in % of the last close
    pinball: float | None = None  # mean pinball loss over the levels, log return x 1e4 (bp)
    kupiec_lr: float | None = None  # unconditional-coverage likelihood ratio (chi-square, 1 df)
    kupiec_p: float | None = None  # its p-value: small = the promised coverage is not held

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        """The figures that are known, as MLflow metrics."""
        return {
            f"{prefix}{key}": float(value)
            for key, value in self.model_dump().items()
            if value is not None
        }

    def coverage_text(self) -> str:
        if self.coverage is None:
            return "-"
        return f"{self.coverage:.3f} (p {self.kupiec_p:.2f})" if self.kupiec_p is not None else "-"


def pinball_loss(quantiles: np.ndarray, actual: np.ndarray, levels: list[float]) -> float:
    """Mean pinball (quantile) loss of quantiles (samples, levels) for outcomes (samples,)."""
    errors = np.asarray(actual, np.float64)[:, None] - np.asarray(quantiles, np.float64)
    tau = np.asarray(levels)[None, :]
    return float(np.maximum(tau * errors, (tau - 1) * errors).mean())


def interval_metrics(
    quantiles: np.ndarray, actual: np.ndarray, levels: list[float]
) -> IntervalMetrics:
    """Coverage, width, pinball loss and Kupiec's test of forecast quantiles of log returns
    (samples, levels) against realised log returns (samples,)."""
    quantiles, actual = np.asarray(quantiles, np.float64), np.asarray(actual, np.float64)
    nominal = float(max(levels) - min(levels))
    known = np.isfinite(actual) & np.isfinite(quantiles).all(axis=1)
    q, a = quantiles[known], actual[known]
    n = len(a)
    if n == 0:
        return IntervalMetrics(samples=0, nominal=nominal)
    low, high = q.min(axis=1), q.max(axis=1)
    inside = (a >= low) & (a <= high)
    pinball = pinball_loss(q, a, levels)
    lr = kupiec_lr(int(n - inside.sum()), n, 1 - nominal)
    return IntervalMetrics(
        samples=n,
        nominal=nominal,
        coverage=float(inside.mean()),
        width_pct=float(np.mean(np.exp(high) - np.exp(low)) * 100),
        pinball=float(pinball * 1e4),
        kupiec_lr=lr,
        kupiec_p=math.erfc(math.sqrt(lr / 2)),
    )


def kupiec_lr(misses: int, samples: int, expected_miss_rate: float) -> float:
    """Kupiec's proportion-of-failures likelihood ratio: -2 log of the likelihood of `misses` in
    `samples` at the promised miss rate over that at the observed rate."""
    p, x, n = expected_miss_rate, misses, samples

    def log_likelihood(rate: float) -> float:
        inside, outside = n - x, x
        total = 0.0
        if inside:
            total += inside * math.log(1 - rate) if rate < 1 else -math.inf
        if outside:
            total += outside * math.log(rate) if rate > 0 else -math.inf
        return total

    return max(0.0, -2 * (log_likelihood(p) - log_likelihood(x / n)))
