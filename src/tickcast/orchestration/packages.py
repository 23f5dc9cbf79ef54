"""The compiled pipeline packages (`make compile` writes them) and the arguments they take."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from tickcast.config import Settings
from tickcast.orchestration.dag import POD_SIZES
from tickcast.orchestration.images import retargeted

PipelineName = Literal["daily", "retraining"]
PIPELINE_NAMES: tuple[PipelineName, ...] = ("daily", "retraining")
# The names the pipelines carry in their IR (and in the KFP UI).
DISPLAY_NAMES: dict[PipelineName, str] = {
    "daily": "tickcast-daily",
    "retraining": "tickcast-retraining",
}


class OrchestrationError(RuntimeError):
    """A pipeline could not be found, submitted, scheduled or run."""


class PipelineArguments(BaseModel):
    """The parameters both pipelines take; empty as_of means the latest completed session."""

    as_of: date | None = None
    trials: int = Field(8, ge=0)
    gpus: int = Field(0, ge=0)
    gpu_node_selector: dict[str, str] = {}
    # GPUs of the tune pod itself; None: as many as `gpus`. 0 when the search runs on a
    # RayCluster: the pod is only a Ray client, and GPUs it reserved would sit idle.
    search_gpus: int | None = Field(None, ge=0)

    def as_parameters(self, *, cluster: bool = True) -> dict[str, Any]:
        """KFP parameter values; locally only those that change what runs."""
        values: dict[str, Any] = {
            "as_of": self.as_of.isoformat() if self.as_of else "",
            "trials": self.trials,
        }
        if cluster:  # GPU counts as strings: see pipelines/cluster.py:on_gpu
            search = self.gpus if self.search_gpus is None else self.search_gpus
            values |= {
                "gpus": str(self.gpus),
                "gpu_node_selector": self.gpu_node_selector,
                "search_gpus": str(search),
            }
        return values


def cluster_package(settings: Settings, name: PipelineName, directory: Path) -> Path:
    """The compiled pipeline as sent to Kubeflow Pipelines: written under `directory` with its
    component images at the configured registry and tag (tickcast.orchestration.images), and
    the tune step sized as a Ray client when the search runs on a RayCluster."""
    documents = retargeted(list(yaml.safe_load_all(compiled_pipeline(settings, name).read_text())))
    if settings.tuning.ray_address:
        _search_as_ray_client(documents)
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


SEARCH_EXECUTOR = "exec-tune"


def _search_as_ray_client(documents: list[Any]) -> None:
    """On a RayCluster the tune step only drives the search (the trials run on the cluster's
    workers): a standard pod instead of a heavy one, and no GPU node selector (its GPU count is
    the search_gpus parameter, which the chart sets to 0)."""
    executor = documents[0].get("deploymentSpec", {}).get("executors", {}).get(SEARCH_EXECUTOR)
    if executor is None:
        return
    size = POD_SIZES["standard"]
    executor["container"]["resources"].update(
        {
            "cpuRequest": _cores(size.cpu),
            "cpuLimit": _cores(size.cpu_limit),
            "memoryRequest": _gigabytes(size.memory),
            "memoryLimit": _gigabytes(size.memory_limit),
            "resourceCpuRequest": size.cpu,
            "resourceCpuLimit": size.cpu_limit,
            "resourceMemoryRequest": size.memory,
            "resourceMemoryLimit": size.memory_limit,
        }
    )
    if len(documents) > 1:
        platform = documents[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
        platform.get(SEARCH_EXECUTOR, {}).pop("nodeSelector", None)


def _cores(quantity: str) -> float:
    """A Kubernetes CPU quantity ("500m", "2") in cores, as KFP's compiler writes it."""
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def _gigabytes(quantity: str) -> float:
    """A Kubernetes memory quantity ("768Mi", "4Gi") in GB, as KFP's compiler writes it."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return float(quantity[:-2]) * units[quantity[-2:]] / 1e9


def compiled_pipeline(settings: Settings, name: PipelineName) -> Path:
    """The compiled IR YAML of pipeline `name`."""
    path = Path(settings.kfp.pipelines_dir) / f"{name}.yaml"
    if not path.is_file():
        raise OrchestrationError(
            f"compiled pipeline {path} not found: run tickcast inside the project (the folder "
            "holding config/ and pipelines/), set kfp.pipelines_dir, or write it with `make compile`"
        )
    return path
