"""Pipelines: run them here (kfp.local) or on Kubeflow Pipelines, upload them, schedule the daily one."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich.markdown import Markdown

from tickcast.cli.context import console, handled_errors, state
from tickcast.cli.tables import Column, fitted_table
from tickcast.config import Settings
from tickcast.orchestration.packages import PipelineArguments, PipelineName

if TYPE_CHECKING:
    from tickcast.orchestration.local import LocalRun

run_app = typer.Typer(help="Run a pipeline here (kfp.local) or on Kubeflow Pipelines.")
pipelines_app = typer.Typer(help="Compiled pipelines on Kubeflow Pipelines.", no_args_is_help=True)
schedule_app = typer.Typer(help="Recurring runs on Kubeflow Pipelines.", no_args_is_help=True)

HOST_HELP = "KFP API URL (default kfp.host; none: the in-cluster API, inside a pod)."


def _arguments(
    as_of: datetime | None,
    trials: int,
    gpus: int,
    gpu_node_selector: str,
    search_gpus: int | None,
) -> PipelineArguments:
    try:
        return PipelineArguments(
            as_of=as_of.date() if as_of else None,
            trials=trials,
            gpus=gpus,
            search_gpus=search_gpus,
            gpu_node_selector=json.loads(gpu_node_selector) if gpu_node_selector else {},
        )
    except (json.JSONDecodeError, ValidationError) as error:
        raise typer.BadParameter(
            f'expected a JSON object of label -> value, e.g. \'{{"gpu": "a100"}}\' ({error})',
            param_hint="--gpu-node-selector",
        ) from None


def _run(
    name: PipelineName,
    local: bool,
    kfp: bool,
    host: str | None,
    wait: float | None,
    arguments: PipelineArguments,
) -> None:
    from tickcast.orchestration.packages import OrchestrationError

    with handled_errors():
        if local == kfp:
            raise OrchestrationError("choose where to run: --local or --kfp")
        settings = state.settings()
        if local:
            from tickcast.orchestration.local import run_local

            with _alerted(settings, name, arguments, store=True):
                run = run_local(settings, name, arguments, state.config_path)
            _print_local_run(run)
        else:
            from tickcast.orchestration.remote import submit_run

            with _alerted(settings, name, arguments, store=False):  # the trigger: no database
                submitted = submit_run(settings, name, arguments, host, wait)
            ended = f", {submitted.state}" if submitted.state else ""
            console.print(f"submitted {name} run {submitted.run_id}{ended}: {submitted.url}")


def _alerted(
    settings: Settings, name: PipelineName, arguments: PipelineArguments, store: bool
) -> AbstractContextManager[None]:
    """The daily run's failure alerted (the retraining pipeline's shows in its own events)."""
    from tickcast.orchestration.failures import alerted_failure

    if name != "daily":
        return nullcontext()
    return alerted_failure(settings, arguments.as_of, store)


def _print_local_run(run: LocalRun) -> None:
    for task in run.tasks:
        if task.report:
            console.print(Markdown(task.report))
    columns = [
        Column("task"),
        Column("status"),
        Column("seconds", justify="right"),
        Column("metrics", 1),
    ]
    rows = [
        [
            task.task,
            task.status,
            f"{task.seconds:.1f}",
            ", ".join(f"{k} {v:g}" for k, v in list(task.metrics.items())[:4]),
        ]
        for task in run.tasks
    ]
    title = f"{run.pipeline} run: {run.seconds:.1f} s, outputs in {run.directory}"
    console.print(fitted_table(console, columns, rows, title=title))


AS_OF = typer.Option(
    None, "--as-of", formats=["%Y-%m-%d"], help="Run as of this session (default: the latest)."
)
TRIALS = typer.Option(8, min=0, help="Search trials when retraining (0: default parameters).")
GPUS = typer.Option(0, min=0, help="GPUs for tune and train on the cluster.")
SEARCH_GPUS = typer.Option(
    None,
    min=0,
    help="GPUs of the tune pod itself (default: --gpus); 0 when the search runs on a RayCluster.",
)
SELECTOR = typer.Option(
    "", help='Node selector for tune and train as JSON, e.g. \'{"gpu": "a100"}\'.'
)
LOCAL = typer.Option(False, "--local", help="Run here with kfp.local.")
KFP = typer.Option(False, "--kfp", help="Submit to Kubeflow Pipelines.")
HOST = typer.Option(None, "--host", help=HOST_HELP)
WAIT = typer.Option(
    None,
    "--wait",
    min=1,
    help="With --kfp: wait up to this many seconds; fail unless it succeeded.",
)


def _run_command(name: PipelineName, summary: str) -> Callable[..., None]:
    def command(
        local: bool = LOCAL,
        kfp: bool = KFP,
        host: str | None = HOST,
        wait: float | None = WAIT,
        as_of: datetime | None = AS_OF,
        trials: int = TRIALS,
        gpus: int = GPUS,
        gpu_node_selector: str = SELECTOR,
        search_gpus: int | None = SEARCH_GPUS,
    ) -> None:
        arguments = _arguments(as_of, trials, gpus, gpu_node_selector, search_gpus)
        _run(name, local, kfp, host, wait, arguments)

    command.__doc__ = summary
    return command


run_app.command("daily")(
    _run_command("daily", "The daily pipeline (retraining runs nested when the decision says so).")
)
run_app.command("retraining")(_run_command("retraining", "The retraining pipeline on its own."))


@pipelines_app.command("upload")
def upload(host: str | None = HOST) -> None:
    """Upload both compiled pipelines (a new version when the package changed)."""
    from tickcast.orchestration.remote import upload_pipelines

    with handled_errors():
        uploaded = upload_pipelines(state.settings(), host)
    for pipeline in uploaded:
        state_text = "uploaded" if pipeline.version_id else "unchanged"
        console.print(
            f"{pipeline.name}: version {pipeline.version_name} {state_text} (pipeline {pipeline.pipeline_id})"
        )


@schedule_app.command("daily")
def schedule_daily(
    cron: str = typer.Option(
        ...,
        "--cron",
        help="When, in UTC: 5 fields (minute hour day month weekday) or KFP's 6 (seconds first), "
        "e.g. '30 22 * * 1-5' after the US close.",
    ),
    host: str | None = HOST,
    name: str = typer.Option("tickcast-daily", help="Recurring run name (replaces one so named)."),
    trials: int = TRIALS,
    gpus: int = GPUS,
    gpu_node_selector: str = SELECTOR,
    search_gpus: int | None = SEARCH_GPUS,
) -> None:
    """A KFP recurring run of the daily pipeline."""
    from tickcast.orchestration.remote import schedule_daily as schedule

    with handled_errors():
        arguments = _arguments(None, trials, gpus, gpu_node_selector, search_gpus)
        scheduled = schedule(state.settings(), cron, arguments, host, name)
    replaced = f", replacing {scheduled.replaced} earlier" if scheduled.replaced else ""
    console.print(
        f"scheduled {scheduled.name} at cron '{scheduled.cron}' (UTC){replaced}: {scheduled.recurring_run_id}"
    )
