"""The calibration slope: recovered when there is one, zero without skill, never amplifying."""

from __future__ import annotations

import numpy as np
import pytest

from tickcast.models.calibration import MIN_SLOPE, calibration_slope


def test_an_overconfident_forecast_is_shrunk_to_its_worth() -> None:
    rng = np.random.default_rng(1)
    signal = rng.normal(0, 0.01, 20_000)
    actual = signal + rng.normal(0, 0.01, signal.shape)
    assert calibration_slope(2 * signal, actual) == pytest.approx(0.5, abs=0.03)


def test_no_skill_or_the_wrong_sign_gives_persistence_to_four_decimals() -> None:
    rng = np.random.default_rng(2)
    actual = rng.normal(0, 0.01, 20_000)
    noise = rng.normal(0, 0.01, actual.shape)
    assert calibration_slope(noise, actual) < 0.03
    assert calibration_slope(-actual, actual) == MIN_SLOPE
    assert calibration_slope(np.zeros_like(actual), actual) == MIN_SLOPE


def test_never_amplifies_and_skips_unknown_outcomes() -> None:
    actual = np.linspace(-0.02, 0.02, 101)
    assert calibration_slope(0.5 * actual, actual) == 1.0  # underconfident: kept, not stretched
    with_gaps = np.where(np.arange(101) % 7 == 0, np.nan, actual)
    assert calibration_slope(actual, with_gaps) == pytest.approx(1.0)
    assert calibration_slope(np.array([0.01]), np.array([0.02])) == MIN_SLOPE
