"""Daily ingests on a large store, with and without the re-read of stored sessions.

Usage: python -m bench.daily_ingest [--tickers 500] [--years 20] [--days 20]

A store of --tickers synthetic tickers x --years years is built once per source (one bulk
ingest), then --days sessions are ingested one by one into two copies of it: with the overlap
re-read that finds re-written histories (`ingest.overlap_sessions`, 5 by default) and without it
(0: the ingest as it was). The synthetic source, the same prices as CSV files (Yahoo layout), and
the synthetic source with quarterly dividends as traded (each day some tickers go ex-dividend and
are re-read and re-adjusted whole) are measured; it prints the median and slowest seconds per
daily ingest and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench.ingest import fresh_database, throwaway_server
from tickcast.config import Settings
from tickcast.data.calendar import trading_calendar
from tickcast.data.ingest import ingest_prices
from tickcast.data.sources import build_source
from tickcast.db.connection import close_idle_connections

console = Console()
YAHOO = {
    "trade_date": "Date",
    "open": "Open",
    "high": "High",
    "low": "Low",
    "close": "Close",
    "adj_close": "Adj Close",
    "volume": "Volume",
}


def copy_of(server_url: str, template: str) -> str:
    """A new database holding what `template` holds (PostgreSQL copies it file by file)."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    source = conninfo_to_dict(template)["dbname"]
    close_idle_connections()  # the ingest keeps its connection for the next one
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return make_conninfo(**{**conninfo_to_dict(server_url), "dbname": name})  # type: ignore[arg-type]


def write_csvs(settings: Settings, folder: Path, end: date) -> None:
    """The synthetic market's prices up to `end` as one Yahoo-layout CSV per ticker."""
    source = build_source(settings, "synthetic", None, end)
    folder.mkdir(parents=True, exist_ok=True)
    for ticker in source.available_tickers():
        frame = source.fetch(ticker, None, end)[list(YAHOO)].rename(columns=YAHOO)
        frame.to_csv(folder / f"{ticker}.csv", index=False)


def daily_seconds(
    settings: Settings, source: str, csv_path: Path | None, days: list[date], label: str
) -> list[float]:
    seconds = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=len(days))
        for day in days:
            started = time.perf_counter()
            result = ingest_prices(settings, source=source, csv_path=csv_path, end=day)
            seconds.append(time.perf_counter() - started)
            assert result.status == "succeeded" and result.rows_new, (day, result.status)
            assert not any(t.rebased for t in result.tickers)
            progress.advance(task)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickers", type=int, default=500)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--days", type=int, default=20)
    args = parser.parse_args()

    calendar = trading_calendar()
    end = date(2024, 12, 31)
    sessions = calendar.sessions_between(date(end.year - args.years, 12, 1), end)
    stored_until, days = sessions[-args.days - 1], sessions[-args.days :]
    table = Table(title=f"daily ingest on {args.tickers} tickers x {args.years} years")
    for column in ("source", "re-read", "median s", "slowest s", "÷ without"):
        table.add_column(column, justify="left" if column == "source" else "right")
    with throwaway_server() as server_url, tempfile.TemporaryDirectory() as scratch:
        base = Settings(database={"url": server_url}).with_overrides(
            {
                "tickers": [f"SYN{i:03d}" for i in range(args.tickers)],
                "data": {
                    "synthetic": {"n_tickers": args.tickers, "start": sessions[0], "end": end}
                },
            }
        )
        folder = Path(scratch) / "csv"
        write_csvs(base, folder, end)
        dividends = {"data": {"synthetic": {"dividend_yield": 0.03}}}
        variants = [
            ("synthetic", "synthetic", None, {}),
            ("csv", "csv", folder, {}),
            ("synthetic + dividends", "synthetic", None, dividends),
        ]
        for name, source, csv_path, overrides in variants:
            market = base.with_overrides(overrides)
            template = fresh_database(server_url)
            started = time.perf_counter()
            store = market.with_overrides({"database": {"url": template}})
            ingest_prices(store, source=source, csv_path=csv_path, end=stored_until)
            console.print(f"{name}: store built in {time.perf_counter() - started:.1f} s")
            medians = {}
            for overlap in (5, 0):
                settings = market.with_overrides(
                    {
                        "database": {"url": copy_of(server_url, template)},
                        "ingest": {"overlap_sessions": overlap},
                    }
                )
                label = f"{name}, overlap {overlap}"
                seconds = daily_seconds(settings, source, csv_path, days, label)
                medians[overlap] = statistics.median(seconds)
                ratio = f"{medians[5] / medians[0]:.2f}x" if overlap == 0 else ""
                table.add_row(
                    name,
                    f"{overlap} sessions" if overlap else "none (as it was)",
                    f"{medians[overlap]:.2f}",
                    f"{max(seconds):.2f}",
                    ratio,
                )
            table.add_section()
    console.print(table)


if __name__ == "__main__":
    main()
