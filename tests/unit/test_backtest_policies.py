"""Backtest policies: each under its own registered model; only continuous ones decide."""

from __future__ import annotations

from tickcast.config import Settings
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
    ridge = base.with_overrides({"training": {"params": {"architecture": "ridge"}}})
    only = backtest_policies(base, {"continuous-ridge": ridge}, baselines=False)
    assert list(only) == ["continuous-ridge"]
    assert only["continuous-ridge"][1].training.params.architecture == "ridge"
