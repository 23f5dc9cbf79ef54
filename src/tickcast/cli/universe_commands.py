"""`tickcast universe load FILE|show`: the universe as of each date (survivorship-free)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from tickcast.cli.context import console, handled_errors, state

app = typer.Typer(
    help="The universe as of each date: which tickers were members when.", no_args_is_help=True
)


@app.command()
def load(
    path: Path = typer.Argument(..., help="CSV with columns ticker,from,to (empty to: a member)."),
) -> None:
    """Replace the stored membership with FILE's: datasets, daily runs and backtests then take
    the members of each session instead of today's tickers."""
    from tickcast.data.universe import load_universe

    with handled_errors():
        settings = state.settings()
        universe = load_universe(settings, path)
        console.print(f"loaded {path}: {universe.describe(datetime.now().date())}")


@app.command()
def show(
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="The members on this date (default: today)."
    ),
) -> None:
    """Which universe tickcast uses, and its members on a date."""
    from tickcast.data.universe import stored_universe, universe_label
    from tickcast.db.connection import open_connection
    from tickcast.db.migrate import ensure_schema

    day = (as_of or datetime.now()).date()
    with handled_errors(), open_connection(state.settings()) as conn:
        ensure_schema(conn)
        universe = stored_universe(conn)
    console.print(universe_label(universe, day))
    if universe is not None:
        console.print(", ".join(universe.members_on(day)) or "(no member that day)")
