"""Search backends on the same budget: Ray Tune (OptunaSearch + ASHA) vs in-process Optuna.

Usage: python bench/tune.py [--stocknet DIR] [--trials 12] [--epochs 10]

Ingests stocknet into a throwaway PostgreSQL, builds a dataset whose test split is about the last
year, runs both backends with the same trials, epochs, seed and ASHA settings, and prints wall
time, best validation loss and peak memory (the process tree, Ray's workers included) for each,
with the ratio. Then trains the best parameters and prints its test metrics next to persistence.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.db import embedded
from tickcast.features.dataset import build_dataset, load_dataset
from tickcast.training.evaluate import persistence_metrics, score
from tickcast.training.fit import train_model
from tickcast.training.tune import TrialRecord, best_trial, search

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data/sample/stocknet"

console = Console()


class PeakMemory:
    """Samples the summed RSS of this process and its descendants every 0.2 s."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stocknet", type=Path, default=SAMPLE_DIR)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="tickcast-bench-"))
    server = embedded.start(scratch / "pgdata")
    try:
        settings = Settings(
            database={"url": server.url},
            artifacts={"root": str(scratch / "artifacts")},
            dataset={"split": {"train": 0.6, "validation": 0.19}},
            tuning={
                "trials": args.trials,
                "max_epochs": args.epochs,
                "grace_period": 2,
                "reduction_factor": 3,
            },
        )
        ingest_prices(settings, source="csv", csv_path=args.stocknet)
        version = build_dataset(settings)
        version, arrays = load_dataset(settings, version.id)
        test = version.splits["test"]
        console.print(
            f"dataset {version.id}: {len(version.tickers)} tickers x {len(version.features)} features; "
            f"test {test.first_anchor} .. {test.last_anchor} ({test.samples} sessions)"
        )
        loop = settings.training.model_copy(update={"max_epochs": args.epochs})
        table = Table(
            title=f"search: {args.trials} trials, up to {args.epochs} epochs, ASHA grace 2 / factor 3"
        )
        for column in (
            "backend",
            "seconds",
            "best val loss",
            "trials complete/stopped",
            "peak MiB",
        ):
            table.add_column(column, justify="left" if column == "backend" else "right")
        outcomes: dict[str, tuple[float, TrialRecord]] = {}
        for backend in ("ray", "optuna"):
            tuning = settings.tuning.model_copy(update={"backend": backend})
            console.print(f"searching with {backend} …")
            with PeakMemory() as memory:
                started = time.perf_counter()
                records = search(tuning, version, arrays, loop, scratch / "ray")
                seconds = time.perf_counter() - started
            best = best_trial(records)
            outcomes[backend] = (seconds, best)
            states = f"{sum(r.state == 'complete' for r in records)}/{sum(r.state == 'stopped' for r in records)}"
            table.add_row(
                backend,
                f"{seconds:.1f}",
                f"{best.validation_loss:.4f}",
                states,
                f"{memory.peak / 2**20:,.0f}",
            )
        ratio = outcomes["ray"][0] / outcomes["optuna"][0]
        table.add_row("ray / optuna (time)", f"{ratio:.2f}x", "", "", "")
        console.print(table)

        best = min(
            (b for _, b in outcomes.values()), key=lambda r: r.validation_loss or float("inf")
        )
        console.print(f"training the best parameters: {best.params}")
        trained = train_model(version, arrays, best.params, settings.training)
        samples = arrays.samples(version.rows("test"))
        model = score(
            arrays,
            samples,
            trained.forecaster.predict(arrays.inputs(samples), samples.rows),
            settings.evaluation,
        )
        baseline = persistence_metrics(arrays, samples, settings.evaluation)
        result = Table(
            title=f"best model on the test split ({test.first_anchor} .. {test.last_anchor})"
        )
        for column in ("model", "MAPE %", "direction accuracy", "up-day rate", "MASE"):
            result.add_column(column, justify="left" if column == "model" else "right")
        for name, metrics in (("best searched", model), ("persistence", baseline)):
            result.add_row(
                name,
                f"{metrics.mape:.3f}",
                f"{metrics.direction_accuracy:.3f}",
                f"{metrics.up_rate:.3f}",
                f"{metrics.mase:.3f}",
            )
        console.print(result)
    finally:
        embedded.stop(scratch / "pgdata")
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
