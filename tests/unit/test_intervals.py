"""Calibrated intervals: split-conformal coverage on unseen samples, monotone quantiles, the
volatility baseline and Kupiec's coverage test."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm  # type: ignore[import-untyped]
from scipy.stats import chi2, chi2_contingency  # type: ignore[import-untyped]

from tickcast.models.intervals import (
    band_calibration,
    ewma_volatility,
    fit_interval_calibration,
    interval_metrics,
    kupiec_lr,
    volatility_quantiles,
)

LEVELS = [0.1, 0.5, 0.9]


def regime_market(
    seed: int, sessions: int, tickers: int, regime_sessions: float = 40
) -> tuple[np.ndarray, np.ndarray]:
    """Daily log returns (sessions, tickers), fat-tailed (Student t, 4 df), whose volatility
    switches between calm (0.6%) and wild (2.4%) regimes of `regime_sessions` on average, and
    the true volatility of each return."""
    rng = np.random.default_rng(seed)
    switches = rng.random((sessions, tickers)) < 1 / regime_sessions
    regime = np.cumsum(switches, axis=0) % 2
    sigma = np.where(regime == 1, 0.024, 0.006)
    shocks = rng.standard_t(4, (sessions, tickers)) / math.sqrt(2)  # unit variance
    return sigma * shocks, sigma


def closes(returns: np.ndarray) -> np.ndarray:
    prices: np.ndarray = 100 * np.exp(np.cumsum(returns, axis=0))
    return prices


def test_calibrated_80_percent_interval_covers_80_percent_of_unseen_outcomes() -> None:
    """The baseline's raw Gaussian interval misses its promise on t(4) shocks (too wide for
    their narrow centre); calibrated on one stretch of sessions, it covers 80% of the next. 24,000 test outcomes: a standard
    error of 0.26 points; the test allows three (0.8 +- 0.0077)."""
    returns, _ = regime_market(seed=1, sessions=1300, tickers=40)
    volatility = ewma_volatility(closes(returns), halflife_sessions=10)
    # The forecast for session t + 1 uses volatility known at t's close.
    raw = volatility_quantiles(volatility[:-1].ravel(), LEVELS)
    actual = returns[1:].ravel()
    sessions = np.repeat(np.arange(len(returns) - 1), returns.shape[1])
    validation, test = (sessions >= 100) & (sessions < 700), sessions >= 700
    uncalibrated = interval_metrics(raw[test], actual[test], LEVELS)
    calibration = fit_interval_calibration(raw[validation], actual[validation], LEVELS)
    calibrated = interval_metrics(calibration.apply(raw[test]), actual[test], LEVELS)
    n = calibrated.samples
    standard_error = math.sqrt(0.8 * 0.2 / n)
    assert n == 599 * 40
    assert abs(calibrated.coverage - 0.8) <= 3 * standard_error  # type: ignore[operator]
    assert abs(uncalibrated.coverage - 0.8) > 3 * standard_error  # type: ignore[operator]
    assert calibrated.kupiec_p is not None and calibrated.kupiec_p > 0.001


def test_a_model_that_knows_the_regime_is_narrower_at_equal_coverage() -> None:
    """Where volatility is predictable (the regime, switching every 5 sessions on average, is
    known a session ahead), quantiles scaled by it cover as promised with a narrower band and a
    lower pinball loss than the calibrated EWMA baseline, which lags every switch."""
    returns, sigma = regime_market(seed=2, sessions=1300, tickers=40, regime_sessions=5)
    volatility = ewma_volatility(closes(returns), halflife_sessions=10)
    actual = returns[1:].ravel()
    sessions = np.repeat(np.arange(len(returns) - 1), returns.shape[1])
    validation, test = (sessions >= 100) & (sessions < 700), sessions >= 700
    judged = {}
    for name, scale in {"model": sigma[1:], "baseline": volatility[:-1]}.items():
        raw = volatility_quantiles(scale.ravel(), LEVELS)
        calibration = fit_interval_calibration(raw[validation], actual[validation], LEVELS)
        judged[name] = interval_metrics(calibration.apply(raw[test]), actual[test], LEVELS)
    tolerance = 3 * math.sqrt(0.8 * 0.2 / judged["model"].samples)
    for metrics in judged.values():
        assert abs(metrics.coverage - 0.8) <= tolerance  # type: ignore[operator]
    assert judged["model"].width_pct < 0.95 * judged["baseline"].width_pct  # type: ignore[operator]
    assert judged["model"].pinball < judged["baseline"].pinball  # type: ignore[operator]


def test_calibrated_quantiles_never_cross() -> None:
    rng = np.random.default_rng(3)
    raw = rng.normal(0, 0.01, (500, 5))  # raw quantiles in any order, crossing
    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    calibration = fit_interval_calibration(raw, rng.normal(0, 0.01, 500), levels)
    calibrated = calibration.apply(rng.normal(0, 0.01, (300, 5)))
    assert np.all(np.diff(calibrated, axis=1) >= 0)
    assert calibration.score_quantiles == sorted(calibration.score_quantiles)


def test_kupiec_matches_the_chi_square_test() -> None:
    for misses, samples in [(30, 200), (40, 200), (0, 50), (50, 50), (12, 1000)]:
        lr = kupiec_lr(misses, samples, 0.2)
        p, x, n = 0.2, misses, samples
        rate = x / n
        expected = -2 * (
            (n - x) * math.log(1 - p)
            + x * math.log(p)
            - ((n - x) * math.log(1 - rate) if rate < 1 else 0)
            - (x * math.log(rate) if rate > 0 else 0)
        )
        assert lr == pytest.approx(expected)
    metrics = interval_metrics(
        np.tile([-1.0, 0.0, 1.0], (200, 1)), np.r_[np.full(160, 0.5), np.full(40, 2.0)], LEVELS
    )
    assert metrics.coverage == 0.8 and metrics.kupiec_lr == pytest.approx(0.0)
    assert metrics.kupiec_p == pytest.approx(chi2.sf(metrics.kupiec_lr, 1))
    skewed = interval_metrics(np.tile([-1.0, 0.0, 1.0], (200, 1)), np.full(200, 2.0), LEVELS)
    assert skewed.coverage == 0.0 and skewed.kupiec_p == pytest.approx(chi2.sf(skewed.kupiec_lr, 1))


def test_recent_volatility_reads_only_the_past() -> None:
    rng = np.random.default_rng(4)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (120, 3)), axis=0))
    close[40:45, 1] = np.nan  # a halted ticker
    volatility = ewma_volatility(close, 10)
    changed = close.copy()
    changed[80:] *= 1.5  # a jump after session 79 changes nothing before it
    assert np.array_equal(ewma_volatility(changed, 10)[:80], volatility[:80], equal_nan=True)
    assert np.isnan(volatility[0]).all() and np.isnan(volatility[40:45, 1]).all()
    assert np.isfinite(volatility[45:, 1]).all()
    assert 0.005 < np.nanmean(volatility[20:]) < 0.02


def test_recalibrating_on_the_newest_outcomes_restores_a_drifted_band() -> None:
    """A model whose band is right on the validation sessions and then grows 40% too wide (what
    the networks' learned volatility multiple did from 2016 to 2017): the validation calibration
    over-covers; recalibrated each session on the newest 60 sessions' outcomes (as predict does,
    from the stored raw bands), it covers 80% again. 40 tickers x 540 sessions after the window
    fills: 21,600 outcomes; calibrated on 2,400 each: a standard error of
    sqrt(0.16 / 21,600 + 0.16 / 2,400) = 0.86 points; the test allows three."""
    rng = np.random.default_rng(5)
    sessions, tickers, window = 1200, 40, 60
    sigma = 0.01 * np.exp(0.4 * rng.standard_normal((sessions, 1)))  # the true volatility
    returns = sigma * rng.standard_normal((sessions, tickers))
    drift = np.where(np.arange(sessions) < 600, 1.0, 1.4)[:, None]  # the band's error
    centre, scale = np.zeros_like(returns), 1.2816 * sigma * drift * np.ones((1, tickers))
    fixed = band_calibration(
        centre[:600].ravel(), scale[:600].ravel(), returns[:600].ravel(), LEVELS
    )
    rolling_inside: list[bool] = []
    fixed_inside: list[bool] = []
    for t in range(600 + window, sessions):
        recent = slice(t - window, t)
        live = band_calibration(
            centre[recent].ravel(), scale[recent].ravel(), returns[recent].ravel(), LEVELS
        )
        for calibration, inside in ((live, rolling_inside), (fixed, fixed_inside)):
            q = calibration.apply_band(centre[t], scale[t])
            inside.extend((q[:, 0] <= returns[t]) & (returns[t] <= q[:, -1]))
    n = len(rolling_inside)
    assert n == 540 * tickers
    tolerance = 3 * math.sqrt(0.16 / n + 0.16 / (window * tickers))
    assert abs(np.mean(rolling_inside) - 0.8) <= tolerance
    assert np.mean(fixed_inside) > 0.8 + 2 * tolerance  # the fixed calibration over-covers


def test_clustered_coverage_error_equals_statsmodels_cluster_robust_one() -> None:
    rng = np.random.default_rng(21)
    sessions = np.repeat(np.arange(120), 25)
    market = rng.normal(0, 1, 120)[sessions]  # a day's moves, and so its misses, go together
    actual = 0.8 * market + 0.6 * rng.normal(0, 1, len(sessions))
    quantiles = np.tile([-1.28, 0.0, 1.28], (len(sessions), 1))
    tickers = np.tile(np.arange(25), 120)
    metrics = interval_metrics(quantiles, actual, LEVELS, sessions=sessions, tickers=tickers)
    inside = ((actual >= -1.28) & (actual <= 1.28)).astype(float)
    fit = sm.OLS(inside, np.ones(len(inside))).fit(
        cov_type="cluster", cov_kwds={"groups": sessions}
    )
    assert metrics.coverage == pytest.approx(fit.params[0])
    assert metrics.coverage_se == pytest.approx(fit.bse[0], rel=1e-10)
    naive = np.sqrt(inside.mean() * (1 - inside.mean()) / len(inside))
    assert metrics.coverage_se is not None and metrics.coverage_se > 2 * naive


def test_christoffersen_sees_misses_that_come_in_runs() -> None:
    rng = np.random.default_rng(22)
    sessions, tickers = (grid.ravel() for grid in np.indices((400, 10)))
    quantiles = np.tile([-1.28, 0.0, 1.28], (len(sessions), 1))
    independent = rng.normal(0, 1, len(sessions))
    calm = interval_metrics(quantiles, independent, LEVELS, sessions=sessions, tickers=tickers)
    assert calm.christoffersen_p is not None and calm.christoffersen_p > 0.01
    # The same share of misses, in runs of 5 sessions per ticker.
    runs = np.where(rng.random((80, 10)) < 0.2, 3.0, 0.0).repeat(5, axis=0).ravel()
    clustered = interval_metrics(quantiles, runs, LEVELS, sessions=sessions, tickers=tickers)
    assert clustered.kupiec_p is not None and clustered.kupiec_p > 0.001
    assert clustered.christoffersen_p is not None and clustered.christoffersen_p < 1e-6
    # The independence part equals the likelihood-ratio (G) test of the 2x2 transition table.
    miss = (runs > 1.28).reshape(400, 10)
    before, after = miss[:-1].ravel(), miss[1:].ravel()
    table = [
        [np.sum(~before & ~after), np.sum(~before & after)],
        [np.sum(before & ~after), np.sum(before & after)],
    ]
    g, *_ = chi2_contingency(table, correction=False, lambda_="log-likelihood")
    assert clustered.christoffersen_lr == pytest.approx(clustered.kupiec_lr + g, rel=1e-9)


def test_coverage_by_volatility_tercile() -> None:
    rng = np.random.default_rng(23)
    volatility = rng.uniform(0.5, 2.0, 3000)
    actual = rng.normal(0, 1, 3000) * volatility  # a band of fixed width: calm covered, not wild
    quantiles = np.tile([-1.28, 0.0, 1.28], (3000, 1))
    metrics = interval_metrics(quantiles, actual, LEVELS, volatility=volatility)
    low, mid, high = (
        metrics.coverage_low_volatility,
        metrics.coverage_mid_volatility,
        metrics.coverage_high_volatility,
    )
    assert low is not None and mid is not None and high is not None
    assert low > mid > high and low > 0.85 and high < 0.7
    assert metrics.tercile_text() == f"{low:.3f} / {mid:.3f} / {high:.3f}"
