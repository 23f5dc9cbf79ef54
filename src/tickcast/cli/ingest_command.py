"""`tickcast ingest`: incremental, validated, bulk price ingestion with a progress bar and a summary."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from tickcast.cli.context import console, errors, handled_errors, state
from tickcast.cli.tables import Column, fitted_table
from tickcast.config import ConfigError
from tickcast.data.ingest import IngestResult, ingest_prices
from tickcast.data.sources.synthetic import ticker_name
from tickcast.tickers import ticker_symbols

_STATUS_STYLE = {"stored": "green", "unchanged": "dim", "rejected": "red", "failed": "red"}


def ingest(
    source: str | None = typer.Option(None, help="csv | synthetic | yfinance (default: config)."),
    path: Path | None = typer.Option(None, help="CSV directory (csv source)."),
    tickers: str | None = typer.Option(
        None, help="Comma-separated tickers, or a number N for the first N synthetic tickers."
    ),
    start: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="Synthetic market start."
    ),
    end: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="Ingest as of this session."
    ),
    full_refresh: bool = typer.Option(
        False, help="Re-read whole histories and update changed rows."
    ),
    wait: float | None = typer.Option(None, help="Seconds to wait for a concurrent ingest's lock."),
    strict: bool = typer.Option(False, help="Exit 1 when any ticker is rejected or fails."),
) -> None:
    """Fetch rows newer than the last stored date per ticker, validate them, and upsert in bulk."""
    with handled_errors():
        settings = state.settings()
        ticker_list: list[str] | None = None
        synthetic: dict[str, object] = {}
        if tickers and tickers.strip().isdigit():
            synthetic["n_tickers"] = int(tickers)
            ticker_list = [ticker_name(i) for i in range(int(tickers))]
        elif tickers:
            try:
                ticker_list = ticker_symbols([t.strip() for t in tickers.split(",") if t.strip()])
            except ValueError as error:
                raise ConfigError(f"--tickers: {error}") from None
        if start is not None:
            synthetic["start"] = start.date()
        if synthetic:
            settings = settings.with_overrides({"data": {"synthetic": synthetic}})

        with Progress(
            TextColumn("ingest {task.fields[ticker]:<8}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("ingest", total=None, ticker="")

            def advance(ticker: str) -> None:
                progress.update(task, advance=1, ticker=ticker)

            result = ingest_prices(
                settings,
                source=source,
                csv_path=path,
                tickers=ticker_list,
                end=end.date() if end else None,
                full_refresh=full_refresh,
                lock_wait_seconds=wait,
                on_ticker=advance,
            )
        _print_summary(result)
    if result.status == "failed" or (strict and result.problem_tickers):
        raise typer.Exit(1)


def _print_summary(result: IngestResult) -> None:
    columns = [
        Column("ticker"),
        Column("status"),
        Column("new", justify="right"),
        Column("updated", 1, "right"),
        Column("rejected", justify="right"),
        Column("first", 2),
        Column("last", 2),
    ]
    rows: list[list[str | Text]] = [
        [
            t.ticker,
            Text(t.status, style=_STATUS_STYLE[t.status]),
            str(t.rows_new),
            str(t.rows_updated),
            str(t.rows_rejected),
            _day(t.first_date),
            _day(t.last_date),
        ]
        for t in result.tickers
    ]
    total = ["total", "", str(result.rows_new), str(result.rows_updated)]
    rows += [[], [*total, str(result.rows_rejected), "", ""]]
    title = f"Ingest run {result.run_id} ({result.source}): {result.status}"
    console.print(fitted_table(console, columns, rows, title=title))
    console.print(f"{len(result.tickers)} tickers in {result.seconds:.1f}s")
    for t in result.tickers:
        for message in t.messages:
            target = errors if t.status in ("rejected", "failed") else console
            target.print(message, highlight=False)
    for note in result.notes:
        errors.print(note, style="yellow")


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""
