"""The retrain/keep rules on hand-made monitoring results."""

from __future__ import annotations

from datetime import date

import pytest

from tickcast.config import DecisionSettings
from tickcast.data.calendar import trading_calendar
from tickcast.models.intervals import IntervalMetrics
from tickcast.models.metrics import ForecastMetrics
from tickcast.ops.decide import RULES, Evidence, Rule, judge, rule_counts
from tickcast.ops.results import FeatureDrift, MonitorResult
from tickcast.registry.production_model import ProductionModel

CAL = trading_calendar()
AS_OF = date(2017, 6, 30)
MODEL = ProductionModel(
    model_name="m", version=3, run_id="r", dataset_id="ds", tickers=["A"], created_at=0
)


def result(
    mape: float = 1.0,
    direction: float = 0.52,
    mase: float = 1.0,
    psi: float = 0.1,
    sessions: int = 20,
    rank_ic: float | None = None,
) -> MonitorResult:
    rolling = ForecastMetrics(
        samples=400,
        mae=1,
        rmse=1,
        mape=mape,
        direction_accuracy=direction,
        up_rate=0.53,
        mase=mase,
        persistence_mae=1,
        return_rmse=0.01,
        rank_ic=rank_ic,
    )
    return MonitorResult(
        as_of=AS_OF,
        scored=10,
        window_sessions=sessions,
        rolling=rolling,
        rolling_persistence=rolling,
        drift=[FeatureDrift(feature="rsi_14", psi=psi)],
        max_psi=psi,
        production=MODEL,
    )


def test_every_rule_that_fires_is_a_reason() -> None:
    decision, bootstrap, reasons = judge(
        DecisionSettings(max_psi=0.5, min_rank_ic=0.0),
        result(mape=3.1, direction=0.40, mase=1.4, psi=0.9, rank_ic=-0.02),
        date(2017, 1, 3),
        None,
        CAL,
    )
    assert (decision, bootstrap) == ("retrain", False)
    messages = [reason.message for reason in reasons]
    assert messages[0] == "rolling MAPE 3.10% > 2.50%"
    assert messages[1].startswith("direction accuracy 0.400 < 0.450")
    assert messages[2] == "MASE 1.400 > 1.250"
    assert messages[3] == "rank IC -0.020 < 0.000"
    assert messages[4] == "drift: PSI of rsi_14 0.900 > 0.500"
    assert messages[5].startswith("model age 124 sessions > 60")
    assert [(r.rule, r.threshold, r.observed) for r in reasons] == [
        ("max_mape", 2.5, 3.1),
        ("min_direction_accuracy", 0.45, 0.40),
        ("max_mase", 1.25, 1.4),
        ("min_rank_ic", 0.0, -0.02),
        ("max_psi", 0.5, 0.9),
        ("max_model_age_sessions", 60, 124),
    ]


def test_the_rank_ic_rule_is_off_by_default_and_needs_a_judged_ic() -> None:
    for rules, ic in ((DecisionSettings(), -0.3), (DecisionSettings(min_rank_ic=0.0), None)):
        decision, _, reasons = judge(rules, result(rank_ic=ic), AS_OF, None, CAL)
        assert decision == "keep" and not any(r.rule == "min_rank_ic" for r in reasons)


def test_keep_when_calm_too_early_or_cooling_down() -> None:
    [calm] = judge(DecisionSettings(), result(), date(2017, 6, 1), None, CAL)[2]
    assert (calm.rule, calm.message) == (
        "within_thresholds",
        "rolling metrics and model age within thresholds",
    )
    # Drift is measured but, unless a threshold is configured, never a reason on its own.
    assert judge(DecisionSettings(), result(psi=9.0), date(2017, 6, 1), None, CAL)[0] == "keep"
    drifted = judge(DecisionSettings(max_psi=1.0), result(psi=9.0), date(2017, 6, 1), None, CAL)
    assert drifted[:2] == ("retrain", False) and drifted[2][0].message.startswith(
        "drift: PSI of rsi_14"
    )
    early = judge(DecisionSettings(), result(mape=9, sessions=2), date(2017, 6, 1), None, CAL)
    assert early[0] == "keep"
    assert early[2][0].message == "too few scored sessions to judge (2 < 5)"
    assert (early[2][0].rule, early[2][0].threshold, early[2][0].observed) == (
        "min_scored_sessions",
        5,
        2,
    )
    cooling = judge(DecisionSettings(), result(mape=9), date(2017, 6, 1), date(2017, 6, 27), CAL)
    assert cooling[0] == "keep"
    assert cooling[2][0].message == "cool-down: retraining decided on 2017-06-27 (3 sessions ago)"
    assert [r.rule for r in cooling[2]] == ["cooldown_sessions", "max_mape"]
    after = judge(DecisionSettings(), result(mape=9), date(2017, 6, 1), date(2017, 6, 16), CAL)
    assert after[0] == "retrain"


def test_no_production_is_a_bootstrap() -> None:
    empty = result().model_copy(update={"production": None})
    decision, bootstrap, [reason] = judge(DecisionSettings(), empty, None, None, CAL)
    assert (decision, bootstrap, reason.rule) == ("retrain", True, "bootstrap")
    assert reason.message == "bootstrap: no production model"


def test_model_age_counts_from_the_last_challenge() -> None:
    """A model whose data ended long ago but that a retrain challenged recently (and kept its
    place) is not old: no retrain treadmill every cool-down."""
    data_end = date(2017, 1, 3)  # 124 sessions before AS_OF
    old = judge(DecisionSettings(), result(), data_end, None, CAL)
    assert old[0] == "retrain"
    assert [r.message for r in old[2]] == ["model age 124 sessions > 60 (its data ends 2017-01-03)"]
    challenged = judge(DecisionSettings(), result(), data_end, date(2017, 6, 1), CAL)
    assert challenged[0] == "keep"
    later = judge(DecisionSettings(), result(), data_end, date(2017, 3, 1), CAL)
    assert later[0] == "retrain" and later[2][0].message.endswith("(last challenged on 2017-03-01)")


def test_rule_counts_count_the_stored_rule_ids() -> None:
    everything = judge(
        DecisionSettings(max_psi=0.5),
        result(mape=3.1, direction=0.40, mase=1.4, psi=0.9),
        date(2017, 1, 3),
        None,
        CAL,
    )[2]
    age_only = judge(DecisionSettings(), result(), date(2017, 1, 3), None, CAL)[2]
    stored = [[reason.model_dump() for reason in reasons] for reasons in (everything, age_only)]
    assert rule_counts(stored) == {
        "max_mape": 1,
        "min_direction_accuracy": 1,
        "max_mase": 1,
        "max_psi": 1,
        "max_model_age_sessions": 2,
    }


def test_the_coverage_rule_fires_when_the_interval_breaks_its_promise() -> None:
    def covered(coverage: float) -> MonitorResult:
        intervals = IntervalMetrics(samples=400, nominal=0.8, coverage=coverage)
        return result().model_copy(update={"rolling_intervals": intervals})

    band = DecisionSettings(coverage_band=(0.7, 0.9))
    for coverage, threshold in ((0.55, 0.7), (0.97, 0.9)):
        decision, _, reasons = judge(band, covered(coverage), AS_OF, None, CAL)
        assert decision == "retrain"
        [reason] = reasons
        assert (reason.rule, reason.threshold, reason.observed) == (
            "coverage_band",
            threshold,
            coverage,
        )
        assert reason.message.startswith(f"interval coverage {coverage:.3f} outside [0.70, 0.90]")
    assert judge(band, covered(0.8), AS_OF, None, CAL)[0] == "keep"
    assert judge(DecisionSettings(), covered(0.3), AS_OF, None, CAL)[0] == "keep"  # off
    assert judge(band, result(), AS_OF, None, CAL)[0] == "keep"  # no intervals stored yet


ALL_ON = DecisionSettings(max_psi=0.5, min_rank_ic=0.0, coverage_band=(0.7, 0.9))
CALM = Evidence(result(rank_ic=0.05), AS_OF, None, CAL)
# Per rule: evidence on which it alone fires, and the start of its message.
FIRING = {
    "max_mape": (result(mape=3.1, rank_ic=0.05), "rolling MAPE 3.10% > 2.50%"),
    "min_direction_accuracy": (
        result(direction=0.40, rank_ic=0.05),
        "direction accuracy 0.400 < 0.450",
    ),
    "max_mase": (result(mase=1.4, rank_ic=0.05), "MASE 1.400 > 1.250"),
    "min_rank_ic": (result(rank_ic=-0.02), "rank IC -0.020 < 0.000"),
    "coverage_band": (
        result(rank_ic=0.05).model_copy(
            update={"rolling_intervals": IntervalMetrics(samples=400, nominal=0.8, coverage=0.5)}
        ),
        "interval coverage 0.500 outside [0.70, 0.90]",
    ),
    "max_psi": (result(psi=0.9, rank_ic=0.05), "drift: PSI of rsi_14 0.900 > 0.500"),
    "max_model_age_sessions": (result(rank_ic=0.05), "model age 124 sessions > 60"),
}


def test_every_rule_is_in_the_table_once() -> None:
    assert [rule.id for rule in RULES] == list(FIRING)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_each_rule_alone(rule: Rule) -> None:
    monitored, message = FIRING[rule.id]
    data_end = date(2017, 1, 3) if rule.id == "max_model_age_sessions" else AS_OF
    fired = rule.check(ALL_ON, Evidence(monitored, data_end, None, CAL))
    assert fired is not None and fired.rule == rule.id and fired.message.startswith(message)
    assert rule.check(ALL_ON, CALM) is None  # calm evidence: silent
    others = [
        r.id
        for r in RULES
        if r is not rule and r.check(ALL_ON, Evidence(monitored, data_end, None, CAL))
    ]
    assert others == []  # the evidence fires this rule only
