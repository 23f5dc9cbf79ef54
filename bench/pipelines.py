"""Local pipeline runs (kfp.local) on stocknet: where a daily run's time goes.

Usage: python -m bench.pipelines [--stocknet DIR | --tickers N] [--family ridge] [--trials 2]
                                 [--epochs 3]   (from the repo root)

Ingests every stocknet ticker (or, with --tickers, a synthetic market of N tickers) up to
2017-06-30 into a throwaway PostgreSQL, then measures:
1. the retraining pipeline through kfp.local with a small search (it promotes the first model,
   of --family; default: the configured one);
2. the daily steps for 2017-07-03 called in this process, one after the other (no KFP), with
   their imports done beforehand: each step's work;
3. the daily pipeline through kfp.local for 2017-07-05, each step a subprocess: its task time
   less the work is its start-up (a fresh Python importing what the step needs, as in a pod);
4. an empty component through kfp.local, five times: what KFP itself adds to every step, and
   the cold start of a fresh Python with MLflow or torch.
Targets: a daily run through kfp.local <= 10 s for the sample tickers, <= 30 s for 500.
"""

# No `from __future__ import annotations`: KFP reads the component's annotations as types.
import argparse
import ast
import importlib
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from kfp import dsl, local
from rich.console import Console
from rich.table import Table

from bench.scratch import scratch_store
from tickcast.config import load_settings
from tickcast.data.ingest import ingest_prices
from tickcast.orchestration import steps
from tickcast.orchestration.dag import DAILY
from tickcast.orchestration.images import RUNTIME_IMAGE
from tickcast.orchestration.local import LocalRun, run_local
from tickcast.orchestration.packages import PipelineArguments
from tickcast.orchestration.runner import run_steps

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "data/sample/stocknet"
BOOTSTRAP, IN_PROCESS_DAY, KFP_DAY = date(2017, 6, 30), date(2017, 7, 3), date(2017, 7, 5)
console = Console()


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)  # type: ignore[untyped-decorator]
def empty_step(value: int) -> int:
    """Does nothing: its task time through kfp.local is KFP's own cost per step."""
    return value


def in_process_daily(as_of: date) -> dict[str, float]:
    """The daily steps run in this process, the way `tickcast daily` runs them (by KFP task name)."""
    warm_imports()
    runs = run_steps(DAILY, {"as_of": as_of, "trials": 0}, load_settings())
    return {name.replace("_", "-"): run.seconds for name, run in runs.items()}


def warm_imports() -> None:
    """Import what every daily step imports (and torch, which a network's bundle loads), so the
    in-process times are the steps' work alone."""
    tree = ast.parse(Path(steps.__file__).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tickcast"):
            importlib.import_module(node.module)
    importlib.import_module("torch")


def empty_step_seconds(repeats: int, kfp_root: Path) -> list[float]:
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(kfp_root))
    times = []
    for value in range(repeats):
        started = time.perf_counter()
        empty_step(value=value)
        times.append(time.perf_counter() - started)
    return times


def python_start_seconds(code: str, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stocknet", type=Path, default=SAMPLE_DIR)
    parser.add_argument("--tickers", type=int, default=None, help="a synthetic market instead")
    parser.add_argument("--family", default=None, help="training.params.family")
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    # The kfp.local steps are subprocesses: everything they read comes from the environment.
    variables = {
        "TICKCAST_TRAINING__MAX_EPOCHS": str(args.epochs),
        "TICKCAST_TUNING__MAX_EPOCHS": str(args.epochs),
        "TICKCAST_KFP__PIPELINES_DIR": str(ROOT / "pipelines"),
    }
    if args.tickers:
        variables |= {
            "TICKCAST_DATA__SOURCE": "synthetic",
            "TICKCAST_DATA__SYNTHETIC__N_TICKERS": str(args.tickers),
            "TICKCAST_DATA__SYNTHETIC__START": "2013-01-02",
            "TICKCAST_DATA__SYNTHETIC__END": "2017-12-29",
        }
    if args.family:
        variables |= {
            "TICKCAST_TRAINING__PARAMS__ARCHITECTURE": args.family,
            "TICKCAST_TUNING__SPACE__ARCHITECTURE": f'["{args.family}"]',
        }
    with scratch_store(args.stocknet, **variables) as scratch:
        os.environ["TICKCAST_KFP__LOCAL_ROOT"] = str(scratch / "kfp")
        settings = load_settings()
        ingested = ingest_prices(settings, end=BOOTSTRAP)
        source = f"{args.tickers} synthetic tickers" if args.tickers else "stocknet"
        console.print(f"ingested {ingested.rows_new:,} rows of {source} up to {BOOTSTRAP}")

        retraining = run_local(
            settings, "retraining", PipelineArguments(as_of=BOOTSTRAP, trials=args.trials)
        )
        print_run(retraining, f"retraining ({args.trials} trials, {args.epochs} epochs)")

        direct = in_process_daily(IN_PROCESS_DAY)
        daily = run_local(settings, "daily", PipelineArguments(as_of=KFP_DAY))
        empty = empty_step_seconds(5, scratch / "kfp")
        cold = {
            "Python": python_start_seconds("pass"),
            "Python + MLflow": python_start_seconds("import mlflow"),
            "Python + torch": python_start_seconds("import torch"),
        }
        universe = f"{args.tickers} synthetic tickers" if args.tickers else "the stocknet tickers"
        print_daily(direct, daily, statistics.median(empty), cold, universe)


def print_run(run: LocalRun, title: str) -> None:
    table = Table(title=f"{title}: {run.seconds:.1f} s through kfp.local")
    for column in ("task", "seconds", "metrics"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for task in run.tasks:
        shown = ", ".join(f"{k} {v:.4g}" for k, v in list(task.metrics.items())[:4])
        table.add_row(task.task, f"{task.seconds:.2f}", shown)
    console.print(table)


def print_daily(
    direct: dict[str, float], run: LocalRun, empty: float, cold: dict[str, float], universe: str
) -> None:
    table = Table(title=f"daily run, {universe}, production model present")
    for column in ("step", "work s (in process)", "kfp.local task s", "start-up s"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for task in run.tasks:
        alone = direct.get(task.task)
        difference = f"{task.seconds - alone:+.2f}" if alone is not None else "-"
        alone_text = f"{alone:.2f}" if alone is not None else "-"
        table.add_row(task.task, alone_text, f"{task.seconds:.2f}", difference)
    in_process, tasks = sum(direct.values()), sum(t.seconds for t in run.tasks)
    table.add_row("total", f"{in_process:.2f}", f"{tasks:.2f}", f"{tasks - in_process:+.2f}")
    console.print(table)
    steps_run = len(run.tasks)
    console.print(
        f"daily pipeline wall time through kfp.local: {run.seconds:.1f} s for {steps_run} steps "
        "(target <= 10 s for the sample tickers, <= 30 s for 500); the same steps' work in one "
        f"process: {in_process:.1f} s; "
        f"ratio {run.seconds / in_process:.2f}x"
    )
    console.print(
        f"KFP overhead per step (an empty component through kfp.local, median of 5): {empty:.2f} s "
        f"(target < 0.2 s), {empty * steps_run:.1f} s of the {run.seconds:.1f} s run. The rest of "
        "the difference is each step's own cold start in a fresh process, as in a pod: "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in cold.items())
    )


if __name__ == "__main__":
    main()
