"""The KFP tasks of a step table (`tickcast.orchestration.dag`): one component per step, wired,
sized and configured as the table says; the in-process runner reads the same table."""

from __future__ import annotations

import importlib
from typing import Any

from kfp import dsl

from pipelines.cluster import on_cluster, on_gpu
from tickcast.orchestration.dag import POD_SIZES, Parameter, Step


def add_tasks(steps: tuple[Step, ...], parameters: dict[str, Any]) -> dict[str, dsl.PipelineTask]:
    """Each step's task, by function name, each after the one before it. `parameters`: the
    pipeline's parameters (as_of, trials, gpus, gpu_node_selector, search_gpus)."""
    tasks: dict[str, dsl.PipelineTask] = {}
    previous: dsl.PipelineTask | None = None
    for step in steps:
        component = getattr(importlib.import_module(f"components.{step.function}"), step.function)
        arguments = {
            name: parameters[source.name]
            if isinstance(source, Parameter)
            else tasks[source.step].outputs["Output"]
            for name, source in step.inputs.items()
        }
        task = on_cluster(component(**arguments), step.display_name, POD_SIZES[step.size])
        if previous is not None:
            task.after(previous)
        if step.retries:
            task.set_retry(num_retries=step.retries, backoff_duration=step.retry_backoff)
        if step.gpus is not None:
            on_gpu(task, parameters[step.gpus], parameters["gpu_node_selector"])
        task.set_caching_options(step.cached)
        tasks[step.function] = task
        previous = task
    return tasks
