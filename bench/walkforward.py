"""Every family, the ensemble and the one-line baselines walked forward over a universe of CSVs.

Usage: python -m bench.walkforward [--csv data/sample/stocknet] [--start 2016-12-21]
       [--end 2017-08-30] [--epochs 10] [--families ...]

Replays the sessions from --start to --end with the real daily logic (`tickcast backtest` on a
throwaway store: each session ingested only when replayed), one continuous policy per family
whose decision rules never fire (each bootstrapped on --start from everything stored up to
then, then never retrained), with persistence, the `reversal` and `market` baselines and the
volatility baseline's interval on the same rows. Prints the backtest's report: every row's MASE,
rank IC with its Newey-West t and the sessions it rests on, quintile spread, interval coverage
with its session-clustered error, Kupiec's and Christoffersen's p, the same on calm and
turbulent sessions; then the power of the run: the smallest mean rank IC it could tell from
zero (two Newey-West standard errors, averaged over the families).
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from rich.console import Console

from bench.scratch import scratch_store
from tickcast.config import load_settings
from tickcast.orchestration.backtest import NEVER, backtest

SAMPLE = Path(__file__).resolve().parents[1] / "data/sample/stocknet"
FAMILIES = ("lstm", "lstm_attention", "lstm_cross_stock", "ridge", "lightgbm", "ensemble")

console = Console(width=220)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csv", type=Path, default=SAMPLE, help="a folder of one CSV per ticker")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2016, 12, 21))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2017, 8, 30))
    parser.add_argument("--epochs", type=int, default=10, help="training.max_epochs (networks)")
    parser.add_argument("--families", nargs="*", default=list(FAMILIES))
    args = parser.parse_args()
    started = time.perf_counter()
    with scratch_store(args.csv, TICKCAST_TRAINING__MAX_EPOCHS=str(args.epochs)):
        settings = load_settings().with_overrides({"training": {"log_figures": False}})
        policies = {
            family: settings.with_overrides(
                {"training": {"params": {"family": family}}, "decision": NEVER}
            )
            for family in args.families
        }
        result = backtest(settings, args.start, args.end, continuous=policies, baselines=False)
    console.print(result.markdown(), soft_wrap=True, markup=False)  # "![..](..)" is no style
    errors = [
        abs(m.rank_ic / m.rank_ic_t)
        for p in result.policies
        if p.policy in args.families
        and (m := p.metrics) is not None
        and m.rank_ic is not None
        and m.rank_ic_t
    ]
    if errors:
        console.print(
            f"Power: with {result.tickers} tickers over {result.sessions} sessions, a mean rank "
            f"IC below {2 * sum(errors) / len(errors):.3f} in size (two Newey-West standard "
            "errors, averaged over the families) could not be told from zero."
        )
    console.print(f"{(time.perf_counter() - started) / 60:.1f} min in all")


if __name__ == "__main__":
    main()
