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
    deprecated_keys,
    load_settings,
)
from tickcast.families.registry import UnknownFamilyError, family, family_names


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
    with pytest.raises(ValueError, match="unknown model family 'gru'; registered: lightgbm, lstm"):
        ModelParams(family="gru")


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
