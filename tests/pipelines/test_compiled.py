"""The committed IR YAML is what the pipeline code compiles to, and loads back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    for executor in gpu_steps:
        accelerator = resources[executor]["accelerator"]
        assert accelerator["resourceType"] == "nvidia.com/gpu"
        assert accelerator["resourceCount"] == "{{$.inputs.parameters['pipelinechannel--gpus']}}"
        selector = kubernetes[executor]["nodeSelector"]["nodeSelectorJson"]
        assert selector["componentInputParameter"] == "gpu_node_selector"
        assert kubernetes[executor]["tolerations"][0]["key"] == "nvidia.com/gpu"
