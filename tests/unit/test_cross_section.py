"""IC, rank IC and the quintile spread against their textbook definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import pearsonr, spearmanr  # type: ignore[import-untyped]

from tickcast.config import EvaluationSettings
from tickcast.models.cross_section import session_skill, summarise
from tickcast.models.metrics import forecast_metrics
from tickcast.models.newey_west import newey_west_t


def long_format(predicted: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, ...]:
    sessions, tickers = np.indices(predicted.shape)
    return predicted.ravel(), actual.ravel(), sessions.ravel(), tickers.ravel()


def test_per_session_ic_and_rank_ic_equal_scipys() -> None:
    rng = np.random.default_rng(3)
    actual = rng.normal(0, 0.02, (30, 12))
    predicted = 0.3 * actual + rng.normal(0, 0.02, actual.shape)
    predicted[4, 2] = np.nan  # a missing forecast leaves that ticker out of session 4 only
    skill = session_skill(*long_format(predicted, actual))
    assert list(skill.index) == list(range(30))
    for session in (0, 4, 29):
        known = np.isfinite(predicted[session])
        p, a = predicted[session][known], actual[session][known]
        assert skill.loc[session, "ic"] == pytest.approx(pearsonr(p, a)[0])
        assert skill.loc[session, "rank_ic"] == pytest.approx(spearmanr(p, a)[0])


def test_summary_means_irs_and_t_statistic() -> None:
    rng = np.random.default_rng(4)
    actual = rng.normal(0, 0.02, (50, 20))
    predicted = 0.2 * actual + rng.normal(0, 0.02, actual.shape)
    skill = session_skill(*long_format(predicted, actual))
    summary = summarise(skill, cost_bps=0.0)
    rank_ic = skill["rank_ic"].to_numpy()
    assert summary.ic_sessions == 50
    assert summary.rank_ic == pytest.approx(rank_ic.mean())
    assert summary.rank_ic_ir == pytest.approx(rank_ic.mean() / rank_ic.std(ddof=1))
    assert summary.rank_ic_t == pytest.approx(newey_west_t(rank_ic))
    assert summary.rank_ic is not None and summary.rank_ic > 0.1
    assert summary.rank_ic_t is not None and summary.rank_ic_t > 3


def test_quintile_spread_and_its_cost() -> None:
    # Ten tickers, forecasts ordered the same way every day: long 8, 9; short 0, 1.
    actual = np.tile(np.linspace(-0.01, 0.01, 10), (3, 1))
    predicted = np.tile(np.arange(10.0), (3, 1))
    skill = session_skill(*long_format(predicted, actual))
    expected = actual[0, 8:].mean() - actual[0, :2].mean()
    assert skill["spread"].to_numpy() == pytest.approx([expected] * 3)
    assert skill["traded"].to_numpy() == pytest.approx([2.0, 0.0, 0.0])  # built once, then kept
    summary = summarise(skill, cost_bps=10.0)
    assert summary.spread_bps == pytest.approx(expected * 1e4)
    assert summary.spread_net_bps == pytest.approx(expected * 1e4 - 10.0 * 2 / 3)


def test_sessions_without_an_ordering_are_not_judged() -> None:
    actual = np.random.default_rng(5).normal(0, 0.02, (5, 6))
    flat = session_skill(*long_format(np.zeros_like(actual), actual))  # persistence: all equal
    few = session_skill(*long_format(actual[:, :2], actual[:, :2]))  # two tickers a session
    assert flat.empty and few.empty
    assert summarise(flat, 5.0).rank_ic is None
    metrics = forecast_metrics(np.zeros_like(actual), actual, np.full(actual.shape, 10.0))
    assert metrics.ic_sessions == 0 and metrics.rank_ic is None
    assert "test_rank_ic" not in metrics.as_dict("test_")


def test_flat_rows_need_their_sessions_and_tickers() -> None:
    rng = np.random.default_rng(6)
    actual = rng.normal(0, 0.02, (8, 5))
    predicted = actual + rng.normal(0, 0.01, actual.shape)
    close = np.full(actual.shape, 50.0)
    wide = forecast_metrics(predicted, actual, close)
    p, a, sessions, tickers = long_format(predicted, actual)
    flat = forecast_metrics(p, a, close.ravel(), sessions=sessions, tickers=tickers)
    assert wide == flat and wide.rank_ic is not None and wide.rank_ic > 0.5
    assert forecast_metrics(p, a, close.ravel()).rank_ic is None


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sessions=st.integers(1, 12),
    tickers=st.integers(1, 9),
    decimals=st.sampled_from([0, 1, 6]),  # 0 and 1: many ties
)
def test_rows_in_any_order_with_ties_give_scipys_figures(
    seed: int, sessions: int, tickers: int, decimals: int
) -> None:
    rng = np.random.default_rng(seed)
    actual = np.round(rng.normal(0, 1, (sessions, tickers)), decimals)
    predicted = np.round(rng.normal(0, 1, (sessions, tickers)), decimals)
    rows = long_format(predicted, actual)
    shuffled = rng.permutation(len(rows[0]))
    skill = session_skill(*(column[shuffled] for column in rows))
    in_order = session_skill(*rows)
    assert list(skill.index) == list(in_order.index)
    # (The quintile legs break ties between equal forecasts by row order: only the ICs compared.)
    correlations = ["ic", "rank_ic"]
    np.testing.assert_allclose(
        skill[correlations].to_numpy(float),
        in_order[correlations].to_numpy(float),
        rtol=1e-12,
        atol=1e-12,
    )
    for session in range(sessions):
        p, a = predicted[session], actual[session]
        judged = tickers >= 3 and p.max() > p.min() and a.max() > a.min()
        assert (session in skill.index) == judged
        if judged:
            assert skill.loc[session, "ic"] == pytest.approx(pearsonr(p, a)[0], abs=1e-12)
            assert skill.loc[session, "rank_ic"] == pytest.approx(spearmanr(p, a)[0], abs=1e-12)


def test_forecasts_tied_on_most_sessions_are_not_judged_never_a_mean_of_a_few() -> None:
    # An early-stopped tree model: one forecast for every ticker but on 3 of 200 sessions.
    rng = np.random.default_rng(11)
    actual = rng.normal(0, 0.02, (200, 30))
    predicted = np.tile(rng.normal(0, 0.001, (200, 1)), (1, 30))
    predicted[:3] = actual[:3]  # a perfect ordering on those 3
    metrics = forecast_metrics(predicted, actual, np.full(actual.shape, 20.0))
    assert metrics.ic_sessions == 3 and metrics.ic_sessions_offered == 200
    assert metrics.distinct_forecasts == 1  # the candidate report's "why"
    assert metrics.rank_ic is None and metrics.rank_ic_t is None and metrics.spread_net_bps is None
    assert metrics.not_judged == "forecasts tied across tickers (model output)"
    assert metrics.rank_ic_text() == (
        "not judged: 3/200 sessions, forecasts tied across tickers (model output)"
    )
    assert metrics.spread_text() == "not judged"
    logged = metrics.as_dict("test_")
    assert logged["test_ic_sessions"] == 3 and "test_rank_ic" not in logged
    # The same forecasts judged on enough sessions: the figure with what it rests on.
    predicted[:150] = actual[:150] + rng.normal(0, 0.02, (150, 30))
    judged = forecast_metrics(predicted, actual, np.full(actual.shape, 20.0))
    assert judged.not_judged is None and judged.rank_ic is not None and judged.rank_ic > 0.3
    assert judged.rank_ic_text().endswith("; 150/200 sessions)")
    assert judged.distinct_forecasts == 30
    strict = EvaluationSettings(min_judged_share=0.9)
    assert (
        forecast_metrics(predicted, actual, np.full(actual.shape, 20.0), evaluation=strict)
        .rank_ic_text()
        .startswith("not judged: 150/200 sessions")
    )


def test_too_few_tickers_is_the_reason_where_it_is() -> None:
    actual = np.random.default_rng(12).normal(0, 0.02, (10, 2))
    metrics = forecast_metrics(actual, actual, np.full(actual.shape, 5.0))
    assert metrics.not_judged == "fewer than 3 tickers with a forecast and an outcome"
