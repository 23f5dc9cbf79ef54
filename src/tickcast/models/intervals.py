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

from tickcast.models.baselines import daily_returns

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
    squared = (
        pd.DataFrame(daily_returns(close) ** 2)
        .ewm(halflife=halflife_sessions, ignore_na=True)
        .mean()
    )
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
    # With the samples' sessions and tickers: the coverage's session-clustered standard error
    # (a day's misses are correlated), and Christoffersen's conditional-coverage test (Kupiec's
    # plus the independence of a ticker's consecutive misses; chi-square, 2 df)
    coverage_se: float | None = None
    christoffersen_lr: float | None = None
    christoffersen_p: float | None = None
    # With each sample's volatility: coverage in its low, middle and high tercile
    coverage_low_volatility: float | None = None
    coverage_mid_volatility: float | None = None
    coverage_high_volatility: float | None = None

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        """The figures that are known, as MLflow metrics."""
        return {
            f"{prefix}{key}": float(value)
            for key, value in self.model_dump().items()
            if value is not None
        }

    def coverage_text(self) -> str:
        """ "0.801 ±0.006 (p 0.45; cc p 0.30)": ± the session-clustered standard error, p
        Kupiec's, cc p Christoffersen's, where known."""
        if self.coverage is None or self.kupiec_p is None:
            return "-"
        se = f" ±{self.coverage_se:.3f}" if self.coverage_se is not None else ""
        cc = f"; cc p {self.christoffersen_p:.2f}" if self.christoffersen_p is not None else ""
        return f"{self.coverage:.3f}{se} (p {self.kupiec_p:.2f}{cc})"

    def tercile_text(self) -> str:
        """Coverage by volatility tercile, low / mid / high ("-" where not measured)."""
        values = (
            self.coverage_low_volatility,
            self.coverage_mid_volatility,
            self.coverage_high_volatility,
        )
        if any(value is None for value in values):
            return "-"
        return " / ".join(f"{value:.3f}" for value in values if value is not None)


def pinball_loss(quantiles: np.ndarray, actual: np.ndarray, levels: list[float]) -> float:
    """Mean pinball (quantile) loss of quantiles (samples, levels) for outcomes (samples,)."""
    errors = np.asarray(actual, np.float64)[:, None] - np.asarray(quantiles, np.float64)
    tau = np.asarray(levels)[None, :]
    return float(np.maximum(tau * errors, (tau - 1) * errors).mean())


def interval_metrics(
    quantiles: np.ndarray,
    actual: np.ndarray,
    levels: list[float],
    *,
    sessions: np.ndarray | None = None,
    tickers: np.ndarray | None = None,
    volatility: np.ndarray | None = None,
) -> IntervalMetrics:
    """Coverage, width, pinball loss and Kupiec's test of forecast quantiles of log returns
    (samples, levels) against realised log returns (samples,); with each sample's session and
    ticker, the clustered standard error and Christoffersen's test too; with its volatility,
    coverage by volatility tercile."""
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
    found = IntervalMetrics(
        samples=n,
        nominal=nominal,
        coverage=float(inside.mean()),
        width_pct=float(np.mean(np.exp(high) - np.exp(low)) * 100),
        pinball=float(pinball * 1e4),
        kupiec_lr=lr,
        kupiec_p=math.erfc(math.sqrt(lr / 2)),
    )
    extra: dict[str, float | None] = {}
    if sessions is not None and tickers is not None:
        session, ticker = np.asarray(sessions)[known], np.asarray(tickers)[known]
        independence = christoffersen_independence_lr(inside, session, ticker)
        extra["coverage_se"] = clustered_coverage_se(inside, session)
        if independence is not None:
            extra["christoffersen_lr"] = lr + independence
            extra["christoffersen_p"] = math.exp(-(lr + independence) / 2)  # chi-square, 2 df
    if volatility is not None:
        extra |= _by_volatility(inside, np.asarray(volatility, np.float64)[known])
    return found.model_copy(update=extra)


def clustered_coverage_se(inside: np.ndarray, sessions: np.ndarray) -> float | None:
    """The standard error of the coverage clustered by session: sqrt(sum over sessions of
    (misses-from-mean summed within the session)^2) / samples; None for a single session."""
    group, found = pd.factorize(np.asarray(sessions))
    if len(found) < 2:
        return None
    residual = inside.astype(np.float64) - inside.mean()
    per_session = np.bincount(group, residual, minlength=len(found))
    clusters = len(found)
    correction = clusters / (clusters - 1)
    return float(math.sqrt(correction * float(per_session @ per_session)) / len(inside))


def christoffersen_independence_lr(
    inside: np.ndarray, sessions: np.ndarray, tickers: np.ndarray
) -> float | None:
    """Christoffersen's independence likelihood ratio (chi-square, 1 df): is a miss more likely
    after a miss? Transitions between each ticker's consecutive samples in session order,
    pooled over tickers; None without any transition."""
    frame = pd.DataFrame({"ticker": tickers, "session": sessions, "miss": ~inside})
    frame = frame.sort_values(["ticker", "session"], kind="stable")
    miss = frame["miss"].to_numpy()
    same = frame["ticker"].to_numpy()[1:] == frame["ticker"].to_numpy()[:-1]
    before, after = miss[:-1][same], miss[1:][same]
    if len(before) == 0:
        return None
    n00 = int((~before & ~after).sum())
    n01 = int((~before & after).sum())
    n10 = int((before & ~after).sum())
    n11 = int((before & after).sum())
    pooled = (n01 + n11) / (n00 + n01 + n10 + n11)
    after_hit = n01 / (n00 + n01) if n00 + n01 else 0.0
    after_miss = n11 / (n10 + n11) if n10 + n11 else 0.0
    restricted = _log_likelihood(n00 + n10, n01 + n11, pooled)
    free = _log_likelihood(n00, n01, after_hit) + _log_likelihood(n10, n11, after_miss)
    return max(0.0, -2 * (restricted - free))


def _by_volatility(inside: np.ndarray, volatility: np.ndarray) -> dict[str, float | None]:
    """Coverage within the low, middle and high terciles of the samples' volatility."""
    known = np.isfinite(volatility)
    if known.sum() < 3:
        return {}
    cuts = np.quantile(volatility[known], [1 / 3, 2 / 3])
    tercile = np.searchsorted(cuts, volatility[known], side="right")
    names = ("coverage_low_volatility", "coverage_mid_volatility", "coverage_high_volatility")
    return {
        name: float(inside[known][tercile == i].mean()) if (tercile == i).any() else None
        for i, name in enumerate(names)
    }


def kupiec_lr(misses: int, samples: int, expected_miss_rate: float) -> float:
    """Kupiec's proportion-of-failures likelihood ratio: -2 log of the likelihood of `misses` in
    `samples` at the promised miss rate over that at the observed rate."""
    p, x, n = expected_miss_rate, misses, samples
    return max(0.0, -2 * (_log_likelihood(n - x, x, p) - _log_likelihood(n - x, x, x / n)))


def _log_likelihood(hits: int, misses: int, miss_rate: float) -> float:
    """The log-likelihood of `hits` and `misses` at `miss_rate` (Bernoulli)."""
    total = 0.0
    if hits:
        total += hits * math.log(1 - miss_rate) if miss_rate < 1 else -math.inf
    if misses:
        total += misses * math.log(miss_rate) if miss_rate > 0 else -math.inf
    return total
