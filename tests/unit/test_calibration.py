"""Calibration: each part's slope recovered when it is real, persistence without skill, never
amplifying, and the ordering kept."""

from __future__ import annotations

import numpy as np
import pytest

from tickcast.models.calibration import MIN_SLOPE, Calibration, calibration_slope, fit_calibration


def test_an_overconfident_forecast_is_shrunk_to_its_worth() -> None:
    rng = np.random.default_rng(1)
    signal = rng.normal(0, 0.01, 20_000)
    actual = signal + rng.normal(0, 0.01, signal.shape)
    assert calibration_slope(2 * signal, actual) == pytest.approx(0.5, abs=0.03)


def test_no_skill_or_the_wrong_sign_gives_persistence_to_four_decimals() -> None:
    rng = np.random.default_rng(2)
    actual = rng.normal(0, 0.01, 20_000)
    for seed in range(10, 30):  # noise is shrunk whatever its draw: significance, not luck
        noise = np.random.default_rng(seed).normal(0, 0.01, actual.shape)
        assert calibration_slope(noise, actual) in (MIN_SLOPE, pytest.approx(0.04, abs=0.04))
    assert calibration_slope(-actual, actual) == MIN_SLOPE
    assert calibration_slope(np.zeros_like(actual), actual) == MIN_SLOPE


def test_never_amplifies_and_skips_unknown_outcomes() -> None:
    actual = np.linspace(-0.02, 0.02, 101)
    assert calibration_slope(0.5 * actual, actual) == 1.0  # underconfident: kept, not stretched
    with_gaps = np.where(np.arange(101) % 7 == 0, np.nan, actual)
    assert calibration_slope(actual, with_gaps) == pytest.approx(1.0)
    assert calibration_slope(np.array([0.01, 0.02]), np.array([0.02, 0.01])) == MIN_SLOPE


def test_the_ordering_and_the_market_part_are_calibrated_apart() -> None:
    rng = np.random.default_rng(3)
    sessions = np.repeat(np.arange(300), 50)
    market = np.repeat(rng.normal(0, 0.01, 300), 50)
    ordering = rng.normal(0, 0.01, len(sessions))
    actual = market + 0.3 * ordering + rng.normal(0, 0.01, len(sessions))
    # The model orders tickers well but guesses the market at random, and is overconfident.
    guessed_market = np.repeat(rng.normal(0, 0.01, 300), 50)
    predicted = ordering + guessed_market
    fitted = fit_calibration(predicted, actual, sessions)
    assert fitted.cross_section == pytest.approx(0.3, abs=0.03)
    assert fitted.market == MIN_SLOPE
    calibrated = fitted.apply(predicted, sessions)
    within = calibrated - calibrated.reshape(300, 50).mean(axis=1).repeat(50)
    np.testing.assert_allclose(
        within,
        fitted.cross_section * (ordering - ordering.reshape(300, 50).mean(axis=1).repeat(50)),
    )
    assert Calibration().apply(predicted, sessions) == pytest.approx(predicted)
