"""`tickcast demo run|down`: the whole loop on a simulated market (make demo / make demo-down)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.text import Text

from tickcast.cli.context import console, handled_errors, sessions_progress, state
from tickcast.cli.tables import Column, fitted_table
from tickcast.config import Settings, config_path, project_root

if TYPE_CHECKING:
    from tickcast.orchestration.demo import DemoDay, DemoSummary

app = typer.Typer(help="The end-to-end demo on a simulated market.", no_args_is_help=True)
WORKDIR = typer.Option(
    None,
    help="Where the demo keeps its stores, logs and pids (default: .tickcast/demo in the project).",
)


@app.command("run")
def run(
    days: int = typer.Option(35, min=2, help="Trading sessions to run the daily pipeline on."),
    shift_after: int = typer.Option(
        15,
        min=0,
        help="The synthetic market's regime shifts this many sessions in (0: as configured).",
    ),
    trials: int = typer.Option(2, min=0, help="Search trials when a retrain runs (0: defaults)."),
    data: Path | None = typer.Option(None, help="A CSV directory instead of the synthetic market."),
    serve: bool = typer.Option(True, help="Start the service and the MLflow UI at the end."),
    serve_port: int = typer.Option(3000, help="Port of the BentoML service."),
    mlflow_port: int = typer.Option(5000, help="Port of the MLflow UI."),
    workdir: Path | None = WORKDIR,
) -> None:
    """Run the daily pipeline through kfp.local over simulated days, then serve the result."""
    with _demo_environment(workdir or _default_workdir()) as folder:
        _run(days, shift_after, trials, data, serve, (serve_port, mlflow_port), folder)


def _run(
    days: int,
    shift_after: int,
    trials: int,
    data: Path | None,
    serve: bool,
    ports: tuple[int, int],
    workdir: Path,
) -> None:
    from tickcast.orchestration.demo import demo_sessions, run_demo

    with handled_errors():
        _stop(workdir, state.settings())  # a fresh start: nothing of an earlier demo survives
        shutil.rmtree(workdir, ignore_errors=True)
        if data is not None:
            os.environ["TICKCAST_DATA__SOURCE"] = "csv"
            os.environ["TICKCAST_DATA__CSV__PATH"] = str(data.resolve())
        settings = state.settings()
        sessions = demo_sessions(settings, days)
        if settings.data.source == "synthetic" and shift_after:
            shift = sessions[min(shift_after, len(sessions) - 1)]
            os.environ["TICKCAST_DATA__SYNTHETIC__REGIME_SHIFT__DATE"] = shift.isoformat()
            settings = state.settings()
            console.print(f"synthetic market: regime shift on {shift}")
        with sessions_progress() as progress:
            task = progress.add_task("daily pipeline runs", total=len(sessions))

            def show(day: DemoDay) -> None:
                label = "retrain (bootstrap)" if day.bootstrap else day.decision
                colour = "red" if day.decision == "retrain" else "green"
                line = Text.assemble(
                    f"{day.as_of}  ", (f"{label:<19}", colour), f" {day.reasons[0]}"
                )
                if day.verdict:
                    line.append(f"\n            -> {day.verdict}")
                progress.console.print(line, highlight=False)
                progress.advance(task)

            summary = run_demo(
                settings, sessions, trials, workdir / "kfp.log", state.config_path, show
            )
    _print_summary(summary, workdir, settings.monitoring.window_sessions)
    if serve:
        _serve(settings, workdir, *ports)


@app.command("down")
def down(workdir: Path | None = WORKDIR) -> None:
    """Stop the service, the MLflow UI and the embedded PostgreSQL the demo started."""
    with _demo_environment(workdir or _default_workdir()) as folder:
        with handled_errors():
            settings = state.settings()
        stopped = _stop(folder, settings)
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


def _default_workdir() -> Path:
    return project_root(config_path(state.config_path)) / ".tickcast/demo"


@contextmanager
def _demo_environment(workdir: Path) -> Iterator[Path]:
    """The demo's embedded PostgreSQL, MLflow store, artifacts and kfp.local outputs under
    `workdir` (config/demo.yaml names the default one), so that a fresh start there leaves
    nothing of an earlier demo and `demo down` stops the server this demo started; the steps
    and the service it starts read them from the environment, which is restored afterwards."""
    workdir = workdir.resolve()
    saved = dict(os.environ)
    os.environ["TICKCAST_DATABASE__EMBEDDED_DIR"] = str(workdir / "pg")
    os.environ["TICKCAST_MLFLOW__TRACKING_URI"] = f"sqlite:///{workdir / 'mlflow.db'}"
    os.environ["TICKCAST_ARTIFACTS__ROOT"] = str(workdir / "artifacts")
    os.environ["TICKCAST_KFP__LOCAL_ROOT"] = str(workdir / "kfp")
    try:
        yield workdir
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _print_summary(summary: DemoSummary, workdir: Path, window: int) -> None:
    retrain_days = [d for d in summary.days if d.decision == "retrain"]
    console.print(
        Text.assemble(
            (f"\n{len(summary.days)} days in {summary.seconds / 60:.1f} min", "bold"),
            f": {len(retrain_days)} retrain decisions, {summary.retrains} models trained, "
            f"{summary.promotions} promoted (kfp.local output: {workdir / 'kfp.log'})",
        )
    )
    for day in retrain_days:
        console.print(f"  {day.as_of} retrain: {'; '.join(day.reasons)}", highlight=False)
        if day.verdict:
            console.print(f"             {day.verdict}", highlight=False)
    columns = [
        Column("version", justify="right"),
        Column("served"),
        Column("days", 1, "right"),
        Column("model MAPE %", justify="right"),
        Column("persistence MAPE %", justify="right"),
    ]
    rows = [
        [
            f"v{phase.version}",
            f"{phase.first} to {phase.last}",
            str(phase.days),
            f"{phase.model_mape:.3f}" if phase.model_mape is not None else "-",
            f"{phase.persistence_mape:.3f}" if phase.persistence_mape is not None else "-",
        ]
        for phase in summary.phases()
    ]
    title = f"rolling metrics per production version ({window}-session window, pooled)"
    console.print(fitted_table(console, columns, rows, title=title))


def _serve(settings: Settings, workdir: Path, serve_port: int, mlflow_port: int) -> None:
    """The service and the MLflow UI in the background, their pids under `workdir`."""
    config = config_path(state.config_path)
    base = [sys.executable, "-m", "tickcast"] + (["--config", str(config)] if config else [])
    commands = {
        "serving": [*base, "serve", "--port", str(serve_port)],
        "mlflow": [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(mlflow_port),
            "--workers",
            "1",
            "--backend-store-uri",
            settings.mlflow.tracking_uri,
        ],
    }
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    for name, command in commands.items():
        with (workdir / f"{name}.log").open("w") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        (workdir / f"{name}.pid").write_text(str(process.pid))
    console.print(
        f"\ndashboard and API: http://127.0.0.1:{serve_port}/  (ready in a few seconds)\n"
        f"MLflow UI:         http://127.0.0.1:{mlflow_port}/\n"
        "stop everything:   make demo-down"
    )


def _stop(workdir: Path, settings: Settings) -> list[str]:
    from tickcast.db import embedded

    stopped = []
    for pid_file in sorted(workdir.glob("*.pid")):
        try:
            os.killpg(int(pid_file.read_text()), signal.SIGTERM)
            stopped.append(pid_file.stem)
        except (ProcessLookupError, ValueError):
            pass
        pid_file.unlink()
    if not settings.database.url and embedded.stop(Path(settings.database.embedded_dir)):
        stopped.append("embedded PostgreSQL")
    return stopped
