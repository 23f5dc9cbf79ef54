"""The model families are found by name through the `tickcast.families` entry points, each a unit
behind one interface; names are checked against what is registered, not a fixed list."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tickcast.config import (
    OWN_FAMILIES,
    ConfigError,
    ModelParams,
    SearchSpace,
    Settings,
    deprecated_keys,
    load_settings,
)
from tickcast.families.ensemble import member_params
from tickcast.families.registry import UnknownFamilyError, family, family_names
from tickcast.ops.tune import candidate_params
from tickcast.training.tune import TrialRecord


def test_tickcasts_own_families_are_registered() -> None:
    assert set(OWN_FAMILIES) <= set(family_names())
    for name in OWN_FAMILIES:
        found = family(name)
        assert found.name == name and found.description
        assert found.network == name.startswith("lstm")
        for method in ("fit", "interval_model", "save", "load"):
            assert callable(getattr(found, method)), (name, method)


def test_an_unknown_family_is_named_with_the_registered_ones() -> None:
    with pytest.raises(UnknownFamilyError, match=r"'lgbm' \(did you mean lightgbm\?\)"):
        family("lgbm")
    with pytest.raises(
        ValueError, match="unknown model family 'gru'; registered: ensemble, lightgbm, lstm"
    ):
        ModelParams(family="gru")


def test_the_ensemble_is_no_search_member_nor_its_own_member() -> None:
    with pytest.raises(ValueError, match="not a search-space member"):
        SearchSpace(family=["ridge", "ensemble"])
    with pytest.raises(ValueError, match="cannot be a member of an ensemble"):
        ModelParams(family="ensemble", members=["ridge", "ensemble"])
    with pytest.raises(ValueError, match="members must differ"):
        ModelParams(family="ensemble", members=["ridge", "ridge"])
    with pytest.raises(ValueError, match="unknown model family 'xgb'"):
        ModelParams(family="ensemble", members=["ridge", "xgb"])


def test_a_configuration_naming_an_unknown_family_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TICKCAST_TUNING__SPACE__FAMILY", '["ridge", "xgboost"]')
    with pytest.raises(ConfigError, match=r"tuning\.space\.family\.1: .*'xgboost'"):
        load_settings()


def test_the_old_name_architecture_is_still_read_with_a_warning_naming_the_new_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert ModelParams.model_validate({"architecture": "ridge"}).family == "ridge"  # old bundles
    assert "architecture" not in ModelParams().model_dump()
    config = tmp_path / "old.yaml"
    config.write_text("training:\n  params: {architecture: ridge}\n")
    monkeypatch.setenv("TICKCAST_TUNING__SPACE__ARCHITECTURE", '["ridge", "lightgbm"]')
    settings = load_settings(config)
    assert settings.training.params.family == "ridge"
    assert settings.tuning.space.family == ["ridge", "lightgbm"]
    assert deprecated_keys(os.environ, config) == [
        "TICKCAST_TUNING__SPACE__ARCHITECTURE is deprecated: set TICKCAST_TUNING__SPACE__FAMILY",
        f"{config}: training.params.architecture is deprecated: name it training.params.family",
    ]
    assert deprecated_keys({}, None) == []


def test_after_a_search_the_ensemble_takes_each_members_best_trial() -> None:
    def trial(number: int, loss: float | None, **params: object) -> TrialRecord:
        return TrialRecord(
            number=number,
            params=ModelParams.model_validate(params),
            validation_loss=loss,
            epochs=1,
            state="complete" if loss is not None else "failed",
            history=[],
        )

    records = [
        trial(0, 0.9, family="ridge", ridge_alpha=1.0),
        trial(1, 0.8, family="ridge", ridge_alpha=100.0),
        trial(2, 0.7, family="lightgbm", num_leaves=31),
        trial(3, None, family="lstm", hidden_size=128),  # failed: the configured ones stay
        trial(4, 0.6, family="lstm_attention", hidden_size=32),  # not a member
    ]
    single = Settings()
    assert candidate_params(single, records).family == "lstm_attention"  # the best trial
    ensemble = Settings(training={"params": {"family": "ensemble", "hidden_size": 16}})
    chosen = candidate_params(ensemble, records)
    assert chosen.family == "ensemble" and set(chosen.member_params) == {"ridge", "lightgbm"}
    assert chosen.member_params["ridge"]["ridge_alpha"] == 100.0
    assert chosen.member_params["lightgbm"]["num_leaves"] == 31
    assert member_params(chosen, "lstm").hidden_size == 16  # the ensemble's own
    assert member_params(chosen, "ridge").family == "ridge"
