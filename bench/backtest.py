"""Walk-forward backtest cost: the replay per session and policy, retrains timed apart, and how
both grow with the number of tickers and the length of the stored history.

Usage: python -m bench.backtest [--sessions 10] [--tickers 10 40 100 500] [--years 2 5 10]
                                [--family ridge] [--lstm]

Each row is a fresh throwaway store with a synthetic market (`--years` of history before the
backtest starts, `--tickers` tickers), then `tickcast.orchestration.backtest.backtest` over `--sessions`
sessions with the four policies (continuous, train once, fixed schedule every 5 sessions,
persistence), no search, `--family` models. Printed per row: the replay cost per session and
policy without retrains (target <= 0.1 s for 40 tickers), the retrains and their seconds, and
the projection of a 10-year replay (2,520 sessions) with the four policies. `--lstm` adds one
LSTM retrain at 40 tickers, timed, beside the tabular ones.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.scratch import scratch_store

START = date(2017, 3, 1)  # the backtest's bootstrap session; history runs up to it
TEN_YEARS = 2520  # sessions

console = Console(width=160)


@contextmanager
def forgetting_between_runs() -> Iterator[None]:
    """The way before the per-process caches: every daily run computes its feature matrices,
    drift bins, stored-data reports and bundles afresh, reads each production model's lineage
    and its CSV files again."""
    from tickcast.data import quality
    from tickcast.data.sources import csv_dir
    from tickcast.features import prediction_input
    from tickcast.ops import monitor, resolve_production
    from tickcast.orchestration import backtest
    from tickcast.registry import production_bundle

    def cold_run_daily(*args: Any, **kwargs: Any) -> Any:
        prediction_input._COMPUTED.clear()
        monitor._BINS.clear()
        production_bundle._load_bundle.cache_clear()
        resolve_production._LINEAGE.clear()
        quality._CHECKED.clear()
        csv_dir._rows.cache_clear()
        return warm_run_daily(*args, **kwargs)

    warm_run_daily = backtest.__dict__["run_daily"]
    backtest.__dict__["run_daily"] = cold_run_daily
    try:
        yield
    finally:
        backtest.__dict__["run_daily"] = warm_run_daily


def replay(
    tickers: int,
    years: int,
    sessions: int,
    family: str,
    cold: bool = False,
    start: date = START,
    schedule: int = 5,
) -> dict[str, float]:
    """One backtest from `start` on a fresh store with `years` of history before it; its costs
    (`cold`: without the per-process caches)."""
    variables = {
        "TICKCAST_DATA__SOURCE": "synthetic",
        "TICKCAST_DATA__SYNTHETIC__N_TICKERS": str(tickers),
        "TICKCAST_DATA__SYNTHETIC__START": str(start - timedelta(days=round(365.25 * years))),
        "TICKCAST_DATA__SYNTHETIC__END": "2017-12-29",
        "TICKCAST_TICKERS": "[]",
        "TICKCAST_TRAINING__PARAMS__ARCHITECTURE": family,
        "TICKCAST_TRAINING__MAX_EPOCHS": "2",
    }
    with scratch_store(Path(), **variables):
        from tickcast.config import load_settings
        from tickcast.data.calendar import trading_calendar
        from tickcast.orchestration.backtest import backtest

        settings = load_settings()
        end = trading_calendar().sessions_between(start, date(2017, 12, 29))[sessions]
        started = time.perf_counter()
        with forgetting_between_runs() if cold else nullcontext():
            result = backtest(settings, start, end, schedule_sessions=schedule, baselines=True)
        wall = time.perf_counter() - started
    trained = [p for p in result.policies if p.policy != "persistence"]
    retrains = sum(p.retrains for p in trained) + len(trained)  # + the bootstraps
    retrain_seconds = sum(p.retrain_seconds for p in trained)
    per_session = sum(p.replay_seconds_per_session for p in trained) / len(trained)
    return {
        "per_session": per_session,
        "retrains": retrains,
        "retrain_seconds": retrain_seconds,
        "per_retrain": retrain_seconds / retrains,
        "wall": wall,
    }


def full_replay(family: str) -> None:
    """The target measured, not projected: 40 tickers, 2,520 sessions from 2007-03-01 (one year
    of history before), the four policies, the fixed schedule retraining every 20 sessions."""
    cost = replay(40, 1, TEN_YEARS, family, start=date(2007, 3, 1), schedule=20)
    console.print(
        f"10-year replay, 40 tickers, 4 policies, {family}: {cost['wall'] / 60:.1f} min wall "
        f"(target <= 30 min); replay {cost['per_session']:.3f} s per session and policy; "
        f"{int(cost['retrains'])} retrains, {cost['retrain_seconds'] / 60:.1f} min of them"
    )


def lstm_retrain_seconds(tickers: int) -> float:
    """One LSTM bootstrap retrain (no search, 2 epochs) at `tickers` tickers."""
    return replay(tickers, 5, 2, "lstm")["per_retrain"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--tickers", type=int, nargs="+", default=[10, 40, 100, 500])
    parser.add_argument("--years", type=int, nargs="+", default=[2, 5, 10])
    parser.add_argument("--family", default="ridge", choices=["ridge", "lightgbm"])
    parser.add_argument("--lstm", action="store_true", help="also time one LSTM retrain")
    parser.add_argument(
        "--full-replay",
        action="store_true",
        help="instead: replay 10 years (40 tickers, 1 year of history first) and time it all",
    )
    args = parser.parse_args()
    if args.full_replay:
        full_replay(args.family)
        return
    rows = [(n, 5) for n in args.tickers] + [(40, y) for y in args.years if y != 5]
    table = Table(
        title=(
            f"backtest cost: {args.sessions} replayed sessions, 3 trained policies + persistence, "
            f"{args.family}, no search, {os.cpu_count()} cores"
        )
    )
    for column in (
        "tickers",
        "history years",
        "replay s / session / policy",
        "target",
        "retrains",
        "s / retrain",
        "10-year replay, 4 policies (projected)",
        "wall s",
    ):
        table.add_column(column, justify="right")
    for tickers, years in rows:
        console.print(f"[dim]{tickers} tickers, {years} years ...[/]")
        cost = replay(tickers, years, args.sessions, args.family)
        replayed = cost["per_session"] * TEN_YEARS * 3
        # continuous: at most one retrain per cool-down (6 sessions); fixed schedule: every 20
        retrained = cost["per_retrain"] * (TEN_YEARS / 6 + TEN_YEARS / 20)
        table.add_row(
            str(tickers),
            str(years),
            f"{cost['per_session']:.2f}",
            "<= 0.1" if tickers == 40 else "",
            str(int(cost["retrains"])),
            f"{cost['per_retrain']:.1f}",
            f"{(replayed + retrained) / 60:,.0f} min",
            f"{cost['wall']:.0f}",
        )
    console.print(table)
    console.print(
        "Projection: the measured replay cost x 2,520 sessions x 3 trained policies, plus the "
        "retrains at the measured seconds each: the continuous policy at most once per "
        "cool-down (every 6 sessions, an upper bound), the fixed schedule every 20, train-once "
        "never. Target for ridge / LightGBM: <= 30 min for 40 tickers."
    )
    warm = replay(40, 5, args.sessions, args.family)["per_session"]
    cold = replay(40, 5, args.sessions, args.family, cold=True)["per_session"]
    console.print(
        f"40 tickers, 5 years, replay per session and policy: {warm:.2f} s with the per-process "
        f"caches, {cold:.2f} s recomputing every matrix, bin, bundle and file per daily run "
        f"(the way before): {cold / warm:.1f}x"
    )
    if args.lstm:
        console.print(f"one LSTM retrain at 40 tickers: {lstm_retrain_seconds(40):.1f} s")


if __name__ == "__main__":
    main()
