"""Feature pipeline throughput: panel + indicators + windows for a synthetic market.

Usage: python bench/features.py [--tickers 500] [--years 10] [--ta-tickers 500] [--batch 256]

Prints seconds per stage and the process's peak memory after each: aligning the panel, the
vectorised indicators over all tickers at once, the same indicators with `ta` one ticker at a
time (the baseline, on --ta-tickers tickers), and scaled training windows in batches as a
training epoch reads them. Target: panel + indicators <= 5 s on 2 cores for 500 x 10 years.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from tickcast.config import (
    DEFAULT_INDICATORS,
    FeatureSettings,
    SplitSettings,
    SyntheticSourceSettings,
)
from tickcast.data.calendar import trading_calendar
from tickcast.data.sources.synthetic import SyntheticSource
from tickcast.features.indicators import compute_indicators, warmup_sessions
from tickcast.features.matrix import feature_matrix
from tickcast.features.panel import build_panel
from tickcast.features.samples import gather_windows, samples_where, usable_windows
from tickcast.features.scaling import fit_scalers, scale
from tickcast.features.split import chronological_split
from tickcast.features.ta_reference import ta_indicator

console = Console()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_prices(tickers: int, years: int) -> pd.DataFrame:
    calendar = trading_calendar()
    end = date(2024, 12, 31)
    settings = SyntheticSourceSettings(
        n_tickers=tickers, start=date(end.year - years + 1, 1, 2), end=end
    )
    source = SyntheticSource(settings, calendar)
    frames = [source.fetch(t, None, None).assign(ticker=t) for t in source.available_tickers()]
    return pd.concat(frames, ignore_index=True).drop(columns="row")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickers", type=int, default=500)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--ta-tickers", type=int, default=500)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()

    prices = synthetic_prices(args.tickers, args.years)
    table = Table(
        title=f"features: {args.tickers} tickers x {args.years} years ({len(prices):,} rows)"
    )
    for column in ("stage", "seconds", "peak MiB"):
        table.add_column(column, justify="left" if column == "stage" else "right")

    def timed(stage: str, work):
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
        table.add_row(stage, f"{seconds:.2f}", f"{peak_mib():,.0f}")
        return result, seconds

    calendar = trading_calendar()
    panel, panel_seconds = timed(
        "panel (align on the calendar)",
        lambda: build_panel(prices, calendar, min_sessions=100, max_gap_sessions=5),
    )
    names = list(DEFAULT_INDICATORS)
    _, vector_seconds = timed("indicators, vectorised", lambda: compute_indicators(panel, names))
    table.add_row(
        "[bold]panel + indicators[/]", f"[bold]{panel_seconds + vector_seconds:.2f}[/]", ""
    )

    subset = panel.tickers[: args.ta_tickers]

    def ta_loop() -> None:
        for ticker in subset:
            frame = pd.DataFrame(
                {
                    "high": panel.adjusted("high")[ticker],
                    "low": panel.adjusted("low")[ticker],
                    "close": panel.adj_close[ticker],
                    "volume": panel.volume[ticker],
                }
            )
            for name in names:
                ta_indicator(frame, name)

    _, ta_seconds = timed(f"indicators, ta per ticker ({len(subset)} tickers)", ta_loop)
    per_ticker_ratio = (ta_seconds / len(subset)) / (vector_seconds / len(panel.tickers))
    table.add_row("ta loop / vectorised (per ticker)", f"{per_ticker_ratio:.1f}x", "")

    matrix, _ = timed(
        "feature matrix (indicators, cross-section, targets)",
        lambda: feature_matrix(panel, FeatureSettings(indicators=names), warmup_sessions(names), 1),
    )
    usable = usable_windows(matrix.defined, 20)
    split = chronological_split(
        (usable & np.isfinite(matrix.targets)).sum(axis=1), 1, SplitSettings()
    )
    scalers, _ = timed(
        "scalers (training rows)", lambda: fit_scalers(matrix.values, range(0, split.train.stop))
    )

    scaled, _ = timed("scale every row once", lambda: scale(matrix.values, scalers))

    train = samples_where(usable & np.isfinite(matrix.targets), split.train)

    def epoch() -> int:
        gathered = 0
        for start in range(0, len(train), args.batch):
            batch = train.take(slice(start, start + args.batch))
            gathered += len(gather_windows(scaled, batch, 20))
        return gathered

    count, _ = timed(f"training windows, one epoch in batches of {args.batch}", epoch)
    console.print(table)
    console.print(
        f"{count:,} pooled training windows of shape (20, {len(matrix.features)}), gathered "
        "from the stored matrix, never materialised"
    )


if __name__ == "__main__":
    main()
