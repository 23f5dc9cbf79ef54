"""Every model family side by side on the sample data, on the same out-of-sample sessions.

Usage: python -m bench.families [--epochs 10] [--tickers ...] [--end 2017-08-31]

Ingests the shipped sample prices (data/sample/stocknet) into a throwaway store, builds one
dataset version with the configured features and split (chronological, with a horizon gap),
then trains each family once on its training sessions, calibrates it on the validation
sessions and scores it on the test sessions, next to persistence and the one-line baselines
(reversal, market) on the same rows: MAPE, MASE, direction accuracy next to the up-day rate, IC,
rank IC (its Newey-West t and the sessions it rests on), and the top-minus-bottom quintile spread
gross and net of evaluation.cost_bps; the power of the run (the smallest mean rank IC it could
tell from zero); the calibrated 80%
band's coverage (Kupiec p), width and pinball loss next to the volatility baseline's. Training
seconds are printed beside: the point model's alone, and what the intervals add (a network is
trained a second time without its quantile head to measure it). The walk-forward backtest (`tickcast backtest`) answers the policy question;
this answers "which family has skill" at a fraction of its cost.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.scratch import scratch_store
from tickcast.data.ingest import ingest_prices
from tickcast.families.registry import family as registered
from tickcast.families.trained import training_data
from tickcast.features.dataset import build_dataset, load_dataset
from tickcast.models.intervals import IntervalMetrics
from tickcast.models.metrics import ForecastMetrics
from tickcast.training.evaluate import calibrated_results
from tickcast.training.fit import train_model
from tickcast.training.intervals import fit_intervals

SAMPLE = Path(__file__).resolve().parents[1] / "data/sample/stocknet"
FAMILIES = ("lstm", "lstm_attention", "lstm_cross_stock", "ridge", "lightgbm", "ensemble")

console = Console(width=200)


def row(
    name: str,
    metrics: ForecastMetrics,
    seconds: str,
    calibration: str,
    band: IntervalMetrics | None,
    band_seconds: str,
) -> list[str]:
    gross = "-" if metrics.spread_bps is None else f"{metrics.spread_bps:.1f}"
    ic = "-" if metrics.ic is None else f"{metrics.ic:.3f}"
    return [
        name,
        f"{metrics.mape:.3f}",
        f"{metrics.mase:.4f}",
        f"{metrics.direction_accuracy:.3f}",
        f"{metrics.up_rate:.3f}",
        ic,
        metrics.rank_ic_text(),
        f"{gross} / {metrics.spread_text()}",
        calibration,
        seconds,
        band.coverage_text() if band else "-",
        f"{band.width_pct:.2f}" if band and band.width_pct is not None else "-",
        f"{band.pinball:.1f}" if band and band.pinball is not None else "-",
        band_seconds,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=10, help="training.max_epochs (networks)")
    parser.add_argument("--end", type=date.fromisoformat, default=date(2017, 8, 31))
    parser.add_argument("--tickers", nargs="*", default=None, help="default: every sample ticker")
    args = parser.parse_args()
    variables = {"TICKCAST_TRAINING__MAX_EPOCHS": str(args.epochs)}
    if args.tickers:
        variables["TICKCAST_TICKERS"] = str(args.tickers).replace("'", '"')
    with scratch_store(SAMPLE, **variables):
        from tickcast.config import load_settings

        settings = load_settings()
        ingest_prices(settings, end=args.end)
        version = build_dataset(settings, args.end)
        _, arrays = load_dataset(settings, version.id)
        test = version.splits["test"]
        table = Table(
            title=(
                f"model families on the sample data: {len(version.tickers)} tickers, test "
                f"sessions {test.first_anchor} to {test.last_anchor} ({test.sessions} sessions, "
                f"{test.samples:,} forecasts); trained on {version.splits['train'].first_anchor} "
                f"to {version.splits['train'].last_anchor}; {os.cpu_count()} cores"
            )
        )
        for column in (
            "family",
            "MAPE %",
            "MASE",
            "direction",
            "up-day rate",
            "IC",
            "rank IC (t)",
            "spread bp gross / net",
            "calibration",
            "train s",
            "80% coverage (p)",
            "width %",
            "pinball bp",
            "+ interval s",
        ):
            table.add_column(column, justify="left" if column == "family" else "right")
        rows: list[list[str]] = []
        persistence: ForecastMetrics | None = None
        baseline: IntervalMetrics | None = None
        one_line: dict[str, ForecastMetrics] = {}
        errors: list[float] = []  # each family's rank IC standard error (Newey-West)
        cost = settings.evaluation
        for family in FAMILIES:
            console.print(f"[dim]{family} ...[/]")
            params = settings.training.params.model_copy(update={"family": family})
            started = time.perf_counter()
            trained = train_model(
                version, arrays, params, settings.training, intervals=settings.intervals
            )
            with_head = time.perf_counter() - started
            seconds, head_seconds = with_head, 0.0
            if registered(family).network:  # trained again without its head, to measure it
                started = time.perf_counter()
                train_model(version, arrays, params, settings.training)
                seconds = time.perf_counter() - started
                head_seconds = with_head - seconds
            judged = calibrated_results(trained.forecaster, version, arrays, cost)
            c = judged.calibration
            calibration = f"{c.cross_section:.3f} / {c.market:.3f}"
            intervals = fit_intervals(
                trained,
                arrays,
                training_data(version, arrays),
                judged.samples["test"],
                settings.intervals,
                settings.training.seed,
                judged.calibration,
            )
            rows.append(
                row(
                    family,
                    judged.metrics["test"],
                    f"{seconds:.0f}",
                    calibration,
                    intervals.metrics["test"],
                    f"{intervals.seconds + head_seconds:.0f}",
                )
            )
            persistence = judged.test_persistence
            baseline = intervals.baseline["test"]
            one_line = judged.test_baselines
            found = judged.metrics["test"]
            if found.rank_ic is not None and found.rank_ic_t:
                errors.append(abs(found.rank_ic / found.rank_ic_t))
        assert persistence is not None
        rows.append(row("persistence / volatility baseline", persistence, "0", "-", baseline, "0"))
        for name, metrics in one_line.items():
            rows.append(row(f"{name} baseline", metrics, "0", "-", None, "0"))
    for cells in rows:
        table.add_row(*cells)
    console.print(table)
    console.print("| " + " | ".join(str(c.header) for c in table.columns) + " |")
    console.print("| --- |" + " ---: |" * (len(table.columns) - 1))
    for cells in rows:
        console.print("| " + " | ".join(cells) + " |", soft_wrap=True)
    console.print(
        "MASE: MAE / persistence MAE on the same rows; direction: share of forecasts whose sign "
        "matched (up: > 0), next to the share of up moves; IC / rank IC: per-session Pearson / "
        "Spearman correlation of forecast and realised returns across tickers, averaged over "
        "the test sessions (Newey-West t; sessions judged / offered); spread: top minus bottom "
        "quintile "
        f"of forecasts, basis points a day, net of {settings.evaluation.cost_bps:g} bp per unit "
        "traded; calibration: the validation slopes kept (cross-section / market; 0.001 = none); "
        f"coverage: share of test closes inside the calibrated {settings.intervals.levels[0]:.0%}"
        f"..{settings.intervals.levels[-1]:.0%} band (Kupiec p: small = the promise is not "
        "held), width: its mean in % of the close, pinball: mean pinball loss over the levels "
        "(bp of log return); the last row's interval is the calibrated volatility baseline's; "
        "train s: the point model alone, + interval s: what its intervals add (a network's "
        "quantile head, trained with it, and the calibrations); reversal baseline: -b x today's "
        "return relative to the market, market baseline: the market's mean return over "
        f"{settings.evaluation.market_sessions} sessions, both fitted on the training sessions "
        "and calibrated on validation like the models."
    )
    if errors:
        console.print(
            f"Power: the rank ICs' standard errors (Newey-West) average {sum(errors) / len(errors):.4f}: "
            f"a mean rank IC below {2 * sum(errors) / len(errors):.3f} in size (2 standard errors) "
            "could not be told from zero on these sessions."
        )


if __name__ == "__main__":
    main()
