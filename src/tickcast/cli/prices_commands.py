"""`tickcast prices accept TICKER DATE`: a stored row that is real ends its ticker's quarantine."""

from __future__ import annotations

from datetime import datetime

import typer

from tickcast.cli.context import console, handled_errors, state

app = typer.Typer(help="Stored prices: accept a jump or level that is real.", no_args_is_help=True)


@app.command()
def accept(
    ticker: str = typer.Argument(..., help="The ticker, e.g. AGFS."),
    day: datetime = typer.Argument(
        ..., formats=["%Y-%m-%d"], help="The session the quarantine names."
    ),
    note: str = typer.Option("", help="Why it is real (kept with the acceptance)."),
) -> None:
    """Accept the stored price of TICKER on DATE as real: its move no longer quarantines the
    ticker, and the plausibility band starts again from it."""
    from tickcast.data.jumps import accept as accept_jump

    with handled_errors():
        accepted = accept_jump(state.settings(), ticker, day.date(), note)
    move = "" if accepted.log_return is None else f" ({accepted.log_return:+.4f} in log)"
    verb = "accepted" if accepted.new else "already accepted"
    console.print(f"{verb}: {accepted.ticker} on {accepted.trade_date}{move}")
