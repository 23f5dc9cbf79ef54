"""Which training target lets every family learn the ordering: raw, demeaned or rank.

Usage: python -m bench.targets [--epochs 5] [--families ridge lightgbm ...]

On two markets, the shipped sample (88 stocknet tickers, data/sample/stocknet, to 2017-08-31) and
a synthetic market with a planted short-term reversal (100 tickers, 2015-01-02 to 2017-10-31,
data.synthetic.planted_reversal 0.05: a rank IC of about 0.03 for the observable reversal), one
dataset version per `dataset.target` (the same rows and split), each family trained once,
calibrated on validation and scored on validation and test: rank IC with its Newey-West t and
the sessions judged out of those offered, the test MASE (the price forecast stays calibrated
whatever the target) and the calibrated 80 % band's test coverage (± its session-clustered
standard error) and width beside the volatility baseline's (a band is of the return, whatever
the target). The last lines say which target orders best on validation, averaged over
the families and markets: the default `dataset.target` follows it.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.scratch import scratch_store
from tickcast.config import Settings, load_settings
from tickcast.data.ingest import ingest_prices
from tickcast.families.trained import training_data
from tickcast.features.dataset import build_dataset, load_dataset
from tickcast.models.intervals import IntervalMetrics
from tickcast.training.evaluate import calibrated_results
from tickcast.training.fit import train_model
from tickcast.training.intervals import fit_intervals

SAMPLE = Path(__file__).resolve().parents[1] / "data/sample/stocknet"
TARGETS = ("raw", "demeaned", "rank")
FAMILIES = ("ridge", "lightgbm", "lstm", "lstm_attention", "lstm_cross_stock", "ensemble")
MARKETS: dict[str, tuple[dict[str, object], date]] = {
    "sample": ({}, date(2017, 8, 31)),
    "planted": (
        {
            "data": {
                "source": "synthetic",
                "synthetic": {
                    "n_tickers": 100,
                    "start": "2015-01-02",
                    "end": "2017-10-31",
                    "planted_reversal": 0.05,
                },
            }
        },
        date(2017, 10, 31),
    ),
}

console = Console(width=200)


def judge_market(
    settings: Settings, end: date, families: list[str], table: Table, name: str
) -> dict[str, list[float]]:
    """Every (target, family) on one market: rows added to `table`; validation rank ICs by
    target (None counted as 0: no ordering judged)."""
    ingest_prices(settings, end=end)
    validation: dict[str, list[float]] = {target: [] for target in TARGETS}
    for target in TARGETS:
        configured = settings.with_overrides({"dataset": {"target": target}})
        version = build_dataset(configured, end)
        _, arrays = load_dataset(configured, version.id)
        for family in families:
            params = configured.training.params.model_copy(update={"family": family})
            started = time.perf_counter()
            trained = train_model(
                version, arrays, params, configured.training, intervals=configured.intervals
            )
            judged = calibrated_results(trained.forecaster, version, arrays, configured.evaluation)
            bands = fit_intervals(
                trained,
                arrays,
                training_data(version, arrays),
                judged.samples["test"],
                configured.intervals,
                configured.training.seed,
                judged.calibration,
            )
            seconds = time.perf_counter() - started
            found, test = judged.metrics["validation"], judged.metrics["test"]
            validation[target].append(found.rank_ic or 0.0)
            table.add_row(
                name,
                target,
                family,
                found.rank_ic_text(),
                test.rank_ic_text(),
                f"{test.mase:.4f}",
                _band_text(bands.metrics["test"]),
                _band_text(bands.baseline["test"]),
                f"{seconds:.0f}",
            )
            console.print(f"[dim]{name} {target} {family}: {test.rank_ic_text()}[/]")
    return validation


def _band_text(band: IntervalMetrics) -> str:
    """'0.801 ±0.006, 2.41 %': coverage ± its clustered error, mean width in % of the close."""
    if band.coverage is None or band.width_pct is None:
        return "-"
    se = f" ±{band.coverage_se:.3f}" if band.coverage_se is not None else ""
    return f"{band.coverage:.3f}{se}, {band.width_pct:.2f} %"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=5, help="training.max_epochs (networks)")
    parser.add_argument("--families", nargs="*", default=list(FAMILIES))
    args = parser.parse_args()
    table = Table(title="training targets: rank IC (Newey-West t; sessions judged / offered)")
    columns = ("market", "target", "family", "validation", "test", "test MASE", "band", "vol band")
    for column in (*columns, "s"):
        table.add_column(column, justify="left" if column in ("market", "target") else "right")
    means: dict[str, list[float]] = {target: [] for target in TARGETS}
    for name, (overrides, end) in MARKETS.items():
        with scratch_store(SAMPLE, TICKCAST_TRAINING__MAX_EPOCHS=str(args.epochs)):
            settings = load_settings().with_overrides(overrides)
            for target, found in judge_market(settings, end, args.families, table, name).items():
                means[target] += found
    console.print(table)
    for target, values in means.items():
        console.print(
            f"{target}: mean validation rank IC over families and markets "
            f"{sum(values) / max(len(values), 1):+.4f}"
        )
    best = max(means, key=lambda target: sum(means[target]) / max(len(means[target]), 1))
    console.print(f"orders best on validation: {best}")


if __name__ == "__main__":
    main()
