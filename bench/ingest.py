"""Ingestion throughput: the bulk path (COPY + INSERT … ON CONFLICT) against row-by-row INSERTs.

Usage: python bench/ingest.py [--stocknet DIR] [--tickers 500] [--years 10] [--baseline-rows 20000]

For (a) the stocknet CSVs and (b) a synthetic market, it prints rows/s of
  - bulk write: upsert_prices into an empty raw_prices, in batches of ingest.batch_rows;
  - row-by-row writes: one INSERT per row, committed once (on the first --baseline-rows rows)
    and committed per row as on an autocommit connection (on a tenth of those): both are slow;
  - the whole `ingest_prices` step (read, validate, write) end to end;
and the ratio bulk / row-by-row. Each measurement gets a fresh database on a throwaway server.

Then, each in a fresh process (peak memory is its own), reading and validating --validation-rows
rows of CSV (5 million by default): one file holding a ticker's history over and over (every
session duplicated: the hostile case, which took minutes per 100 k rows when each duplicate
searched the batch) and the same rows as distinct tickers, one file each (the clean case).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pandas as pd
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from rich.console import Console
from rich.table import Table

from tickcast.config import Settings
from tickcast.data.calendar import trading_calendar
from tickcast.data.ingest import ingest_prices
from tickcast.data.sources import PriceSource, build_source
from tickcast.data.validation import duplicate_session_issues, validate_batch, validate_prices
from tickcast.db import embedded
from tickcast.db.connection import connect
from tickcast.db.migrate import apply_migrations
from tickcast.db.prices import insert_prices_row_by_row, upsert_prices

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data/sample/stocknet"

console = Console()


@contextmanager
def throwaway_server() -> Iterator[str]:
    directory = Path(tempfile.mkdtemp(prefix="tickcast-bench-")) / "pgdata"
    server = embedded.start(directory)
    try:
        yield server.url
    finally:
        embedded.stop(directory)
        shutil.rmtree(directory.parent, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    params = conninfo_to_dict(server_url)
    params["dbname"] = name
    url = make_conninfo(**params)  # type: ignore[arg-type]
    with connect(url) as conn:
        apply_migrations(conn)
    return url


def validated_frame(source: PriceSource, settings: Settings) -> pd.DataFrame:
    calendar = trading_calendar()
    today = calendar.today()
    frames = []
    for ticker in source.available_tickers():
        checked = validate_prices(ticker, source.fetch(ticker, None, None), calendar, today)
        frames.append(checked.frame)
    return pd.concat(frames, ignore_index=True)


def time_bulk(url: str, frame: pd.DataFrame, batch_rows: int) -> float:
    started = time.perf_counter()
    with connect(url) as conn:
        for offset in range(0, len(frame), batch_rows):
            with conn.transaction():
                upsert_prices(conn, frame.iloc[offset : offset + batch_rows], "bench")
    return time.perf_counter() - started


def time_row_by_row(url: str, frame: pd.DataFrame, *, commit_each_row: bool) -> float:
    started = time.perf_counter()
    with connect(url) as conn:
        if commit_each_row:
            insert_prices_row_by_row(conn, frame, "bench")
        else:
            with conn.transaction():
                insert_prices_row_by_row(conn, frame, "bench")
    return time.perf_counter() - started


def time_step(settings: Settings, source: str, csv_path: Path | None) -> tuple[int, float]:
    started = time.perf_counter()
    result = ingest_prices(settings, source=source, csv_path=csv_path)
    return result.rows_new, time.perf_counter() - started


def measure(
    label: str,
    server_url: str,
    settings: Settings,
    source_name: str,
    csv_path: Path | None,
    baseline_rows: int,
    table: Table,
) -> None:
    source = build_source(settings, source_name, csv_path)
    console.print(f"[bold]{label}[/]: reading and validating …")
    frame = validated_frame(source, settings)
    bulk_seconds = time_bulk(fresh_database(server_url), frame, settings.ingest.batch_rows)
    bulk_rate = len(frame) / bulk_seconds
    table.add_row(
        label, "bulk write", f"{len(frame):,}", f"{bulk_seconds:.2f}", f"{bulk_rate:,.0f}", ""
    )
    for name, rows, per_row in (
        ("row-by-row, one commit", baseline_rows, False),
        ("row-by-row, commit per row", baseline_rows // 10, True),
    ):
        sample = frame.iloc[:rows]
        seconds = time_row_by_row(fresh_database(server_url), sample, commit_each_row=per_row)
        rate = len(sample) / seconds
        ratio = f"{bulk_rate / rate:.1f}x"
        table.add_row(label, name, f"{len(sample):,}", f"{seconds:.2f}", f"{rate:,.0f}", ratio)
    step_settings = settings.with_overrides({"database": {"url": fresh_database(server_url)}})
    step_rows, step_seconds = time_step(step_settings, source_name, csv_path)
    step_rate = f"{step_rows / step_seconds:,.0f}"
    table.add_row(
        label, "ingest step end to end", f"{step_rows:,}", f"{step_seconds:.2f}", step_rate, ""
    )
    table.add_section()


def write_validation_case(case: str, rows: int, folder: Path) -> None:
    """`rows` rows of the stocknet AAPL history: repeated in one file, or one file per copy."""
    history = pd.read_csv(SAMPLE_DIR / "AAPL.csv")
    copies = -(-rows // len(history))
    folder.mkdir(parents=True, exist_ok=True)
    if case == "duplicates":
        pd.concat([history] * copies, ignore_index=True).iloc[:rows].to_csv(
            folder / "DUP.csv", index=False
        )
        return
    text = history.to_csv(index=False)
    for copy in range(copies):
        (folder / f"T{copy:05d}.csv").write_text(text)


def validation_child(case: str, rows: int) -> None:
    """Read and validate the case's files in this process; print seconds and peak RSS (MB)."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / case
        write_validation_case(case, rows, folder)
        calendar = trading_calendar()
        started = time.perf_counter()
        source = build_source(Settings(), "csv", folder)
        raws = {ticker: source.fetch(ticker, None, None) for ticker in source.available_tickers()}
        checked = validate_batch(raws, calendar, date(2026, 1, 1))
        seconds = time.perf_counter() - started
    rejected = sum(result.rejected for result in checked.results.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "rejected": rejected}))


def measure_validation(rows: int) -> Table:
    table = Table(title=f"read + validate {rows:,} CSV rows (each case in its own process)")
    for column in ("case", "tickers rejected", "seconds", "peak RSS MB"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for case in ("duplicates", "clean"):
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.ingest",
                "--validation-case",
                case,
                "--validation-rows",
                str(rows),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        found = json.loads(child.stdout.strip().splitlines()[-1])
        label = (
            "one file, every session repeated" if case == "duplicates" else "one file per ticker"
        )
        table.add_row(
            label, str(found["rejected"]), f"{found['seconds']:.1f}", f"{found['peak_mb']:.0f}"
        )
    return table


def scan_per_duplicate(parsed: pd.DataFrame, rows: pd.Series) -> int:
    """The old way (before 0f6d836): each duplicated row scanned the whole batch for the rows of
    its session, to name them. Returns the duplicated rows found."""
    doubled = parsed.duplicated(["ticker", "trade_date"], keep=False)
    for index in parsed.index[doubled]:
        same = (parsed["ticker"] == parsed.at[index, "ticker"]) & (
            parsed["trade_date"] == parsed.at[index, "trade_date"]
        )
        ", ".join(str(rows[i]) for i in parsed.index[same])
    return int(doubled.sum())


def measure_duplicate_detection(sizes: list[int]) -> Table:
    """Finding and naming repeated sessions, old way and new, on the same repeated history."""
    history = pd.read_csv(SAMPLE_DIR / "AAPL.csv", parse_dates=["Date"])
    table = Table(title="naming repeated sessions: a scan per duplicate (old) vs linear (new)")
    for column in ("rows", "old s", "new s", "old ÷ new"):
        table.add_column(column, justify="right")
    for size in sizes:
        repeated = pd.concat([history] * -(-size // len(history)), ignore_index=True)[:size]
        parsed = pd.DataFrame({"ticker": "DUP", "trade_date": repeated["Date"]})
        rows = pd.Series(range(2, size + 2), index=parsed.index)
        started = time.perf_counter()
        found = scan_per_duplicate(parsed, rows)
        old = time.perf_counter() - started
        started = time.perf_counter()
        issues = duplicate_session_issues(parsed, rows)
        new = time.perf_counter() - started
        assert found == size and issues, (found, len(issues))
        table.add_row(f"{size:,}", f"{old:.2f}", f"{new:.3f}", f"{old / new:,.0f}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stocknet", type=Path, default=SAMPLE_DIR)
    parser.add_argument("--tickers", type=int, default=500)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    parser.add_argument("--validation-rows", type=int, default=5_000_000)
    parser.add_argument(
        "--duplicate-rows", type=int, nargs="+", default=[5_000, 25_000], help="old vs new sizes"
    )
    parser.add_argument(
        "--validation-case", choices=["duplicates", "clean"], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.validation_case:
        validation_child(args.validation_case, args.validation_rows)
        return

    calendar = trading_calendar()
    end = date(2024, 12, 31)
    start = calendar.sessions_between(date(end.year - args.years, 12, 1), end)[0]
    table = Table(title="tickcast ingest benchmark")
    for column in ("data", "path", "rows", "seconds", "rows/s", "bulk ÷ this"):
        table.add_column(column, justify="left" if column in ("data", "path") else "right")
    with throwaway_server() as server_url:
        base = Settings(database={"url": server_url})
        if args.stocknet.is_dir():
            measure("stocknet", server_url, base, "csv", args.stocknet, args.baseline_rows, table)
        else:
            console.print(f"[yellow]skipping stocknet: {args.stocknet} not found[/]")
        synthetic = base.with_overrides(
            {"data": {"synthetic": {"n_tickers": args.tickers, "start": start, "end": end}}}
        )
        label = f"synthetic {args.tickers}x{args.years}y"
        measure(label, server_url, synthetic, "synthetic", None, args.baseline_rows, table)
    console.print(table)
    console.print(measure_duplicate_detection(args.duplicate_rows))
    console.print(measure_validation(args.validation_rows))


if __name__ == "__main__":
    main()
