"""The compiled pipeline packages (`make compile` writes them) and the arguments they take."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from tickcast.config import Settings
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
    component images at the configured registry and tag (tickcast.orchestration.images)."""
    documents = list(yaml.safe_load_all(compiled_pipeline(settings, name).read_text()))
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump_all(retargeted(documents), sort_keys=False))
    return path


def compiled_pipeline(settings: Settings, name: PipelineName) -> Path:
    """The compiled IR YAML of pipeline `name`."""
    path = Path(settings.kfp.pipelines_dir) / f"{name}.yaml"
    if not path.is_file():
        raise OrchestrationError(
            f"compiled pipeline {path} not found: run tickcast inside the project (the folder "
            "holding config/ and pipelines/), set kfp.pipelines_dir, or write it with `make compile`"
        )
    return path
