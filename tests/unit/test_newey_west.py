"""The Newey-West t-statistic equals statsmodels' HAC t of a regression on a constant."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from tickcast.models.newey_west import newey_west_lags, newey_west_t


def statsmodels_t(values: np.ndarray, lags: int) -> float:
    fit = sm.OLS(values, np.ones(len(values))).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False}
    )
    return float(fit.tvalues[0])


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(3, 900),
    horizon=st.integers(1, 10),
    persistence=st.floats(0, 0.95),
    mean=st.floats(-0.5, 0.5),
)
def test_equal_to_statsmodels_on_random_series(
    seed: int, count: int, horizon: int, persistence: float, mean: float
) -> None:
    noise = np.random.default_rng(seed).normal(0, 1, count)
    series = np.empty(count)
    level = 0.0
    for i, shock in enumerate(noise):  # AR(1): the autocorrelation the correction is for
        level = persistence * level + shock
        series[i] = mean + level
    lags = min(newey_west_lags(count, horizon), count - 1)
    found = newey_west_t(series, horizon)
    assert found is not None
    assert found == pytest.approx(statsmodels_t(series, lags), rel=1e-10, abs=1e-10)


def test_lags_follow_the_rule_of_thumb_and_the_horizon() -> None:
    assert newey_west_lags(100) == 4
    assert newey_west_lags(709) == math.floor(4 * 7.09 ** (2 / 9)) == 6
    assert newey_west_lags(50, horizon=10) == 9


def test_autocorrelated_series_get_a_smaller_t_than_the_naive_one() -> None:
    rng = np.random.default_rng(1)
    series = 0.1 + np.convolve(rng.normal(0, 1, 500), np.ones(5) / 5, mode="same")
    naive = series.mean() / (series.std() / math.sqrt(len(series)))
    found = newey_west_t(series)
    assert found is not None and 0 < found < naive / 1.5


def test_too_short_or_constant_series_have_no_t() -> None:
    assert newey_west_t(np.array([0.1, 0.2])) is None
    assert newey_west_t(np.full(20, 0.3)) is None
