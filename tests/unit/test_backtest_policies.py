"""Backtest policies: each under its own registered model; only continuous ones decide."""

from __future__ import annotations

from datetime import date

from tests.unit.test_decision_rules import result
from tickcast.config import Settings
from tickcast.data.calendar import trading_calendar
from tickcast.models.intervals import IntervalMetrics
from tickcast.ops.decide import RULES, Evidence
from tickcast.orchestration.backtest import NEVER, backtest_policies


def test_default_and_named_continuous_policies() -> None:
    base = Settings()
    default = backtest_policies(base)
    assert list(default) == ["continuous", "train_once", "fixed_schedule"]
    assert default["continuous"][1].decision == base.decision
    assert default["train_once"][1].decision.max_mape == NEVER["max_mape"]
    models = {configured.mlflow.model_name for _, configured in default.values()}
    assert len(models) == 3 and base.mlflow.model_name not in models

    strict = base.with_overrides({"decision": {"max_mape": 1.0}})
    named = backtest_policies(base, {"continuous-Strict Rules": strict, "continuous-x": base})
    assert [(name, policy) for name, (policy, _) in named.items()] == [
        ("continuous-Strict Rules", "continuous"),
        ("continuous-x", "continuous"),
        ("train_once", "train_once"),
        ("fixed_schedule", "fixed_schedule"),
    ]
    strict_settings = named["continuous-Strict Rules"][1]
    assert strict_settings.decision.max_mape == 1.0
    assert (
        strict_settings.mlflow.model_name == "tickcast-forecaster-backtest-continuous-strict-rules"
    )
    # The baselines keep the configured training, whatever the continuous variants change;
    # no policy logs candidate plots (the backtest report plots the policies).
    quiet = base.training.model_copy(update={"log_figures": False})
    assert named["fixed_schedule"][1].training == quiet
    assert not any(configured.training.log_figures for _, configured in named.values())


def test_without_baselines_only_the_continuous_policies_replay() -> None:
    base = Settings()
    ridge = base.with_overrides({"training": {"params": {"family": "ridge"}}})
    only = backtest_policies(base, {"continuous-ridge": ridge}, baselines=False)
    assert list(only) == ["continuous-ridge"]
    assert only["continuous-ridge"][1].training.params.family == "ridge"


def test_no_rule_fires_for_the_baselines_whatever_is_configured() -> None:
    """Every rule of the decide step is off for train-once and fixed-schedule, even the ones a
    configuration turns on (rank IC, coverage band, drift)."""
    every_rule_on = Settings().with_overrides(
        {"decision": {"min_rank_ic": 0.5, "coverage_band": [0.79, 0.81], "max_psi": 0.01}}
    )
    assert {rule.id for rule in RULES} <= set(NEVER)
    for name in ("train_once", "fixed_schedule"):
        rules = backtest_policies(every_rule_on)[name][1].decision
        monitored = result(mape=50, direction=0.1, mase=9, psi=5, rank_ic=-0.5).model_copy(
            update={"rolling_intervals": IntervalMetrics(samples=400, nominal=0.8, coverage=0.2)}
        )
        found = Evidence(monitored, date(2010, 1, 4), None, trading_calendar())
        assert [rule.id for rule in RULES if rule.check(rules, found)] == [], name
