"""The committed IR YAML is what the pipeline code compiles to, and loads back."""

from __future__ import annotations

from pathlib import Path

import yaml
from kfp import components
from pipelines.compile import ROOT, compile_all


def test_compiled_yaml_is_up_to_date(tmp_path: Path) -> None:
    for fresh in compile_all(tmp_path):
        committed = ROOT / fresh.relative_to(tmp_path)
        assert committed.exists(), f"{committed.relative_to(ROOT)} is missing: run `make compile`"
        assert yaml.safe_load(fresh.read_text()) == yaml.safe_load(committed.read_text()), (
            f"{committed.relative_to(ROOT)} is out of date: run `make compile`"
        )


def test_compiled_pipelines_load_back() -> None:
    daily = components.load_component_from_file(str(ROOT / "pipelines/daily.yaml"))
    assert daily.name == "tickcast-daily"
    assert set(daily.component_spec.inputs or {}) == {"as_of", "trials"}
    step = components.load_component_from_file(str(ROOT / "components/predict.yaml"))
    assert set(step.component_spec.outputs or {}) == {"report", "Output"}
