"""The committed IR YAML is what the pipeline code compiles to, and loads back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import components
from pipelines.compile import ROOT, compile_all


def test_compiled_yaml_is_up_to_date(tmp_path: Path) -> None:
    for fresh in compile_all(tmp_path):
        committed = ROOT / fresh.relative_to(tmp_path)
        assert committed.exists(), f"{committed.relative_to(ROOT)} is missing: run `make compile`"
        # A pipeline's file holds two documents: the pipeline spec and its Kubernetes settings.
        documents = [list(yaml.safe_load_all(p.read_text())) for p in (fresh, committed)]
        assert documents[0] == documents[1], (
            f"{committed.relative_to(ROOT)} is out of date: run `make compile`"
        )


def test_compiled_pipelines_load_back() -> None:
    daily = components.load_component_from_file(str(ROOT / "pipelines/daily.yaml"))
    assert daily.name == "tickcast-daily"
    assert set(daily.component_spec.inputs or {}) == {
        "as_of",
        "trials",
        "gpus",
        "gpu_node_selector",
        "search_gpus",
    }
    step = components.load_component_from_file(str(ROOT / "components/predict.yaml"))
    assert set(step.component_spec.outputs or {}) == {"report", "Output"}


def _kubernetes(name: str) -> dict[str, Any]:
    documents = list(yaml.safe_load_all((ROOT / f"pipelines/{name}.yaml").read_text()))
    executors: dict[str, Any] = documents[1]["platforms"]["kubernetes"]["deploymentSpec"][
        "executors"
    ]
    return executors


def _resources(name: str) -> dict[str, Any]:
    spec = yaml.safe_load_all((ROOT / f"pipelines/{name}.yaml").read_text())
    executors = next(spec)["deploymentSpec"]["executors"]
    return {key: value["container"].get("resources", {}) for key, value in executors.items()}


def test_every_step_gets_config_secrets_labels_and_resources() -> None:
    for name in ("daily", "retraining"):
        kubernetes, resources = _kubernetes(name), _resources(name)
        assert set(kubernetes) == set(resources)
        for executor, settings in kubernetes.items():
            assert settings["podMetadata"]["labels"]["app.kubernetes.io/part-of"] == "tickcast"
            assert settings["configMapAsVolume"][0]["mountPath"] == "/etc/tickcast"
            env = {e["envVar"] for s in settings["secretAsEnv"] for e in s["keyToEnv"]}
            assert "TICKCAST_DATABASE__URL" in env, executor
            assert settings["configMapAsEnv"][0]["keyToEnv"][0]["envVar"] == "TICKCAST_CONFIG"
            assert {"cpuRequest", "cpuLimit", "memoryRequest", "memoryLimit"} <= set(
                resources[executor]
            ), executor


def test_gpus_are_a_parameter_of_tune_and_train_only() -> None:
    kubernetes, resources = _kubernetes("daily"), _resources("daily")
    gpu_steps = {e for e, r in resources.items() if "accelerator" in r}
    assert gpu_steps == {"exec-tune", "exec-train-candidate"}
    counts = {"exec-tune": "search_gpus", "exec-train-candidate": "gpus"}
    for executor in gpu_steps:
        accelerator = resources[executor]["accelerator"]
        assert accelerator["resourceType"] == "nvidia.com/gpu"
        channel = f"pipelinechannel--{counts[executor]}"
        assert accelerator["resourceCount"] == f"{{{{$.inputs.parameters['{channel}']}}}}"
        selector = kubernetes[executor]["nodeSelector"]["nodeSelectorJson"]
        assert selector["componentInputParameter"] == "gpu_node_selector"
        assert kubernetes[executor]["tolerations"][0]["key"] == "nvidia.com/gpu"


@pytest.mark.parametrize("name", ["daily", "retraining"])
def test_placeholders_the_driver_reads_as_strings_are_fed_strings(name: str) -> None:
    """KFP 2.17's driver resolves pod-spec placeholders (image, accelerator type and count) with
    GetStringValue(): a NUMBER_INTEGER parameter there resolves to "" and the setting vanishes.
    Follow each placeholder through every DAG level to the pipeline parameter it comes from."""
    documents = list(yaml.safe_load_all((ROOT / f"pipelines/{name}.yaml").read_text()))
    spec = documents[0]
    placeholder = re.compile(r"\{\{\$\.inputs\.parameters\['pipelinechannel--(\w+)'\]\}\}")
    checked = 0
    for executor, container in _containers(spec).items():
        accelerator = container.get("resources", {}).get("accelerator", {})
        for value in (
            container["image"],
            accelerator.get("resourceType", ""),
            accelerator.get("resourceCount", ""),
        ):
            if match := placeholder.fullmatch(value):
                types = _parameter_types(spec, match[1])
                assert types == {"STRING"}, (executor, match[1], types)
                checked += 1
    assert checked >= 2  # tune and train candidate request GPUs in both pipelines


def _containers(spec: dict[str, Any]) -> dict[str, Any]:
    return {name: e["container"] for name, e in spec["deploymentSpec"]["executors"].items()}


def _parameter_types(spec: dict[str, Any], name: str) -> set[str]:
    """The declared types of parameter `name` in the root and every component or sub-DAG that
    takes it (as itself or as its pipeline channel)."""
    components = [spec["root"], *spec["components"].values()]
    return {
        c["inputDefinitions"]["parameters"][key]["parameterType"]
        for c in components
        for key in (name, f"pipelinechannel--{name}")
        if key in c.get("inputDefinitions", {}).get("parameters", {})
    }
