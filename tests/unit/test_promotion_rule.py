"""The promotion rule on hand-made evaluations."""

from __future__ import annotations

from tickcast.config import PromotionSettings
from tickcast.models.metrics import ForecastMetrics
from tickcast.models.paired_tests import PairedTest
from tickcast.ops.evaluate import Evaluation
from tickcast.ops.promote import judge_candidate


def metrics(mase: float, direction: float = 0.5, rank_ic: float | None = None) -> ForecastMetrics:
    return ForecastMetrics(
        samples=100,
        mae=mase,
        rmse=mase,
        mape=mase,
        direction_accuracy=direction,
        up_rate=0.52,
        mase=mase,
        persistence_mae=1.0,
        return_rmse=0.01,
        rank_ic=rank_ic,
    )


def evaluation(
    candidate: ForecastMetrics,
    production: ForecastMetrics | None,
    error: str | None = None,
    p_value: float | None = None,
) -> Evaluation:
    return Evaluation(
        candidate_version=2,
        dataset_id="ds-x",
        production_version=1 if production else None,
        production_error=error,
        tickers=["A"],
        first_anchor="2017-01-03",
        last_anchor="2017-08-31",
        candidate=candidate,
        production=production,
        persistence=metrics(1.0),
        paired_test=PairedTest(
            method="diebold_mariano", statistic=1.0, p_value=p_value, sessions=40
        )
        if p_value is not None
        else None,
    )


def test_first_candidate_is_a_bootstrap() -> None:
    promote, bootstrap, reason = judge_candidate(
        PromotionSettings(), evaluation(metrics(1.2), None)
    )
    assert (promote, bootstrap) == (True, True)
    assert reason.startswith("bootstrap")


def test_a_worse_candidate_is_refused() -> None:
    promote, _, reason = judge_candidate(
        PromotionSettings(), evaluation(metrics(1.05), metrics(1.0))
    )
    assert not promote
    assert "candidate mase 1.05 vs production 1" in reason and "-5.00%" in reason


def test_a_better_candidate_needs_the_minimum_improvement() -> None:
    rule = PromotionSettings(min_improvement=0.02)
    assert judge_candidate(rule, evaluation(metrics(0.97), metrics(1.0)))[0]
    assert not judge_candidate(rule, evaluation(metrics(0.99), metrics(1.0)))[0]
    assert not judge_candidate(PromotionSettings(), evaluation(metrics(1.0), metrics(1.0)))[
        0
    ]  # a tie keeps production


def test_direction_accuracy_is_higher_is_better() -> None:
    rule = PromotionSettings(metric="direction_accuracy")
    assert judge_candidate(
        rule, evaluation(metrics(1.1, direction=0.56), metrics(0.9, direction=0.53))
    )[0]
    assert not judge_candidate(
        rule, evaluation(metrics(0.9, direction=0.50), metrics(1.1, direction=0.53))
    )[0]


def test_must_beat_persistence_even_as_a_bootstrap() -> None:
    rule = PromotionSettings(must_beat_persistence=True)
    promote, _, reason = judge_candidate(rule, evaluation(metrics(1.01), None))
    assert not promote and "does not beat persistence" in reason
    assert judge_candidate(rule, evaluation(metrics(0.98), None))[0]


def test_an_unevaluable_production_is_replaced() -> None:
    promote, bootstrap, reason = judge_candidate(
        PromotionSettings(), evaluation(metrics(1.1), None, "production v1 cannot be evaluated")
    )
    assert (promote, bootstrap) == (True, False)
    assert "cannot be evaluated" in reason


def test_rank_ic_compares_differences_and_an_unjudged_ordering_counts_as_zero() -> None:
    rule = PromotionSettings(metric="rank_ic", min_improvement=0.01)
    promote, _, reason = judge_candidate(
        rule, evaluation(metrics(1.0, rank_ic=0.03), metrics(1.0, rank_ic=0.01))
    )
    assert (
        promote
        and "candidate rank_ic 0.03 vs production 0.01 (+0.0200; required > 0.0100)" in reason
    )
    assert not judge_candidate(
        rule, evaluation(metrics(1.0, rank_ic=0.015), metrics(1.0, rank_ic=0.01))
    )[0]
    assert judge_candidate(
        rule, evaluation(metrics(1.0, rank_ic=0.02), metrics(1.0, rank_ic=None))
    )[0]
    beat = PromotionSettings(metric="rank_ic", must_beat_persistence=True)
    assert not judge_candidate(beat, evaluation(metrics(1.0, rank_ic=-0.01), None))[
        0
    ]  # persistence: 0


def test_significance_needs_a_passed_paired_test() -> None:
    rule = PromotionSettings(significance=0.05)
    better, incumbent = metrics(0.97), metrics(1.0)
    promote, _, reason = judge_candidate(rule, evaluation(better, incumbent, p_value=0.2))
    assert not promote and "diebold mariano p = 0.2 over 40 sessions (> 0.05)" in reason
    assert judge_candidate(rule, evaluation(better, incumbent, p_value=0.01))[0]
    promote, _, reason = judge_candidate(rule, evaluation(better, incumbent))
    assert not promote and "no paired test possible" in reason
    assert judge_candidate(PromotionSettings(), evaluation(better, incumbent, p_value=0.4))[0]


def test_a_candidate_that_only_reproduces_the_reversal_is_not_promoted_over_it() -> None:
    rule = PromotionSettings(metric="rank_ic", must_beat_baseline="reversal")
    reversal = metrics(0.999, rank_ic=0.03)
    copy = evaluation(metrics(0.999, rank_ic=0.03), metrics(1.0, rank_ic=0.0))
    copy = copy.model_copy(update={"baselines": {"reversal": reversal, "market": metrics(1.0)}})
    promote, _, reason = judge_candidate(rule, copy)
    assert not promote
    assert "candidate rank_ic 0.03 vs the reversal baseline 0.03 (+0.0000" in reason
    assert judge_candidate(PromotionSettings(metric="rank_ic"), copy)[0]  # option off: promoted
    better = copy.model_copy(update={"candidate": metrics(0.998, rank_ic=0.05)})
    assert judge_candidate(rule, better)[0]
    # With significance, the win over the baseline needs its own paired test.
    significant = rule.model_copy(update={"significance": 0.05})
    promote, _, reason = judge_candidate(significant, better)
    assert not promote and "vs the reversal baseline" in reason and "no paired test" in reason
    # A bundle saved before the baselines cannot show it beats one: not promoted.
    promote, _, reason = judge_candidate(rule, better.model_copy(update={"baselines": {}}))
    assert not promote and "no reversal baseline to beat" in reason
