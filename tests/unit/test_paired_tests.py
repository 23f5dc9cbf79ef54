"""The paired tests: a real improvement is significant, a relabelled copy is not."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm  # type: ignore[import-untyped]

from tickcast.models.newey_west import newey_west_t
from tickcast.models.paired_tests import diebold_mariano, rank_ic_difference


def test_diebold_mariano_sees_smaller_errors_and_not_noise() -> None:
    rng = np.random.default_rng(7)
    production = rng.normal(0, 1.0, (250, 30))
    better = production * 0.9
    same = rng.normal(0, 1.0, production.shape)
    won = diebold_mariano(better, production)
    assert won is not None and won.statistic > 3 and won.p_value < 0.01
    tie = diebold_mariano(same, production)
    assert tie is not None and 0.01 < tie.p_value < 0.99
    lost = diebold_mariano(production, better)
    assert lost is not None and lost.p_value > 0.99
    assert diebold_mariano(better[:2], production[:2]) is None


def test_p_value_is_the_normal_tail_of_the_statistic() -> None:
    rng = np.random.default_rng(8)
    production = rng.normal(0, 1.0, (100, 10))
    candidate = production + rng.normal(0, 0.5, production.shape)
    result = diebold_mariano(candidate, production)
    assert result is not None
    d = np.abs(production).mean(axis=1) - np.abs(candidate).mean(axis=1)
    assert result.statistic == pytest.approx(newey_west_t(d))
    assert result.p_value == pytest.approx(norm.sf(result.statistic))


def test_rank_ic_difference_needs_a_better_ordering() -> None:
    rng = np.random.default_rng(9)
    actual = rng.normal(0, 0.02, (200, 40))
    skilled = actual + rng.normal(0, 0.05, actual.shape)
    guessing = rng.normal(0, 0.02, actual.shape)
    won = rank_ic_difference(skilled, guessing, actual)
    assert won is not None and won.statistic > 3 and won.p_value < 0.01
    equal = rank_ic_difference(guessing, guessing, actual)
    assert equal is None  # identical orderings: no difference to test
