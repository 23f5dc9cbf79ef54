"""Run a compiled pipeline on this machine with kfp.local.

By default every step runs as a subprocess of the current Python (SubprocessRunner), reading its
settings from the same config file and TICKCAST_* variables; outputs land under kfp.local_root,
one folder per run and task. With a DockerRunner every step runs in its component's image
instead (the images of the package sent to a cluster: tickcast.orchestration.images), configured
by the runner's container arguments.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tickcast.config import Settings, config_path
from tickcast.orchestration.packages import (
    DISPLAY_NAMES,
    OrchestrationError,
    PipelineArguments,
    PipelineName,
    cluster_package,
    compiled_pipeline,
)

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STARTED = re.compile(r"^Executing task '(?P<task>[^']+)'")
_FINISHED = re.compile(r"^Task '(?P<task>[^']+)' finished with status (?P<status>\w+)")


class TaskRun(BaseModel):
    task: str
    status: str
    seconds: float
    output: str | int | None = None  # what the component returned (None: it returns nothing)
    metrics: dict[str, float] = {}
    report: str | None = None  # the task's Markdown report, when it writes one


class LocalRun(BaseModel):
    pipeline: PipelineName
    directory: Path
    seconds: float
    tasks: list[TaskRun]


class TaskTimer(logging.Filter):
    """Times kfp.local's tasks from the start and finish lines it logs on the root logger."""

    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, float] = {}
        self.finished: list[tuple[str, str, float]] = []  # task, status, seconds; in order

    def filter(self, record: logging.LogRecord) -> bool:
        message = _ANSI.sub("", str(record.msg))
        if started := _STARTED.match(message):
            self.started[started["task"]] = record.created
        elif finished := _FINISHED.match(message):
            task = finished["task"]
            seconds = record.created - self.started.get(task, record.created)
            self.finished.append((task, finished["status"], seconds))
        return True


def run_local(
    settings: Settings,
    name: PipelineName,
    arguments: PipelineArguments,
    config: Path | None = None,
    runner: Any = None,
) -> LocalRun:
    """Run pipeline `name` from its compiled YAML; raise OrchestrationError naming the failed task.

    `runner`: kfp.local's runner; None runs the steps as subprocesses of this Python. A
    `kfp.local.DockerRunner` runs them in their images (it mounts kfp.local_root into each
    container at the same path, so the containers' user must be able to write there).
    """
    from kfp import components, local

    root = Path(settings.kfp.local_root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    before = set(root.iterdir())
    if runner is None:
        runner = local.SubprocessRunner(use_venv=False)
        package = compiled_pipeline(settings, name)
        pipeline = components.load_component_from_file(str(package))
    else:  # the package as a cluster gets it: its images at the configured registry and tag
        with tempfile.TemporaryDirectory() as written:
            package = cluster_package(settings, name, Path(written))
            pipeline = components.load_component_from_file(str(package))
    local.init(runner=runner, pipeline_root=str(root))
    timer = TaskTimer()
    started = time.perf_counter()
    with _config_for_steps(config), _timed(timer), warnings.catch_warnings():
        # kfp.local warns, for every task, that the cluster settings (resources, display names,
        # accelerators) and the component images have no effect here: known, and not the user's.
        warnings.filterwarnings("ignore", module=r"kfp\.local\.")
        try:
            pipeline(**arguments.as_parameters(cluster=False))
        except RuntimeError as failure:
            runs = sorted(set(root.iterdir()) - before)
            where = f"; outputs under {runs[-1]}" if runs else ""
            raise OrchestrationError(
                f"local {name} run failed: {_ANSI.sub('', str(failure))}{where}"
            ) from None
    seconds = time.perf_counter() - started
    directory = _newest_run(root, before, DISPLAY_NAMES[name])
    tasks = []
    for task, status, elapsed in timer.finished:
        folder = _task_folder(directory, task)
        recorded = _executor_output(folder)
        tasks.append(
            TaskRun(
                task=task,
                status=status,
                seconds=elapsed,
                output=_output(recorded),
                metrics=_metrics(recorded),
                report=_report(folder),
            )
        )
    return LocalRun(pipeline=name, directory=directory, seconds=seconds, tasks=tasks)


@contextmanager
def _config_for_steps(config: Path | None) -> Iterator[None]:
    """The steps are subprocesses: hand them the config file this process was given."""
    path = config_path(config)
    saved = os.environ.get("TICKCAST_CONFIG")
    if path is not None:
        os.environ["TICKCAST_CONFIG"] = str(path.resolve())
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TICKCAST_CONFIG", None)
        else:
            os.environ["TICKCAST_CONFIG"] = saved


@contextmanager
def _timed(timer: TaskTimer) -> Iterator[None]:
    root = logging.getLogger()
    root.addFilter(timer)
    try:
        yield
    finally:
        root.removeFilter(timer)


def _newest_run(root: Path, before: set[Path], prefix: str) -> Path:
    runs = sorted(p for p in set(root.iterdir()) - before if p.name.startswith(prefix))
    if not runs:
        raise OrchestrationError(f"the local run left no output folder under {root}")
    return runs[-1]


def _task_folder(directory: Path, task: str) -> Path | None:
    """kfp.local nests a pipeline's tasks under the run folder; the task name is unique."""
    found = sorted(directory.rglob(task))
    return next((p for p in found if p.is_dir()), None)


def _executor_output(folder: Path | None) -> dict[str, Any]:
    """What kfp.local recorded of a task: its return value and output artifacts."""
    path = folder / "executor_output.json" if folder else None
    if path is None or not path.is_file():
        return {}
    found: dict[str, Any] = json.loads(path.read_text())
    return found


def _output(recorded: dict[str, Any]) -> str | int | None:
    value = recorded.get("parameterValues", {}).get("Output")
    if isinstance(value, float) and value.is_integer():  # a number comes back as JSON's
        return int(value)
    return value if isinstance(value, str | int) else None


def _metrics(recorded: dict[str, Any]) -> dict[str, float]:
    artifacts = recorded.get("artifacts", {})
    metrics = artifacts.get("metrics", {}).get("artifacts", [{}])[0].get("metadata", {})
    return {key: float(value) for key, value in metrics.items()}


def _report(folder: Path | None) -> str | None:
    path = folder / "report" if folder else None
    return path.read_text() if path is not None and path.is_file() else None
