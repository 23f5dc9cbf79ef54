"""`tickcast alerts list|test`: the stored alert events, and a test event to every webhook."""

from __future__ import annotations

from typing import Annotated

import typer

from tickcast.cli.context import console, handled_errors, state
from tickcast.cli.tables import Column, fitted_table

app = typer.Typer(help="Alert events: stored, and pushed to alerts.webhooks.", no_args_is_help=True)


@app.command("list")
def list_alerts(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="newest events shown")] = 20,
) -> None:
    """The newest alert events with how each webhook took them."""
    from tickcast.db.alerts import recent_alerts
    from tickcast.db.connection import open_connection
    from tickcast.db.migrate import ensure_schema

    with handled_errors():
        settings = state.settings()
        with open_connection(settings) as conn:
            ensure_schema(conn)
            found = recent_alerts(conn, settings.mlflow.model_name, limit)
    rows = [
        [
            f"{row['created_at']:%Y-%m-%d %H:%M}",
            row["kind"],
            str(row["as_of"] or "-"),
            row["summary"],
            ", ".join(
                f"{d['webhook']} {'ok' if d['ok'] else d.get('error') or 'failed'}"
                for d in row["deliveries"]
            )
            or "-",
        ]
        for row in found
    ]
    columns = [
        Column("when"),
        Column("event"),
        Column("as of", 2),
        Column("summary"),
        Column("sent", 1),
    ]
    console.print(
        fitted_table(
            console, columns, rows, title=f"alerts of {state.settings().mlflow.model_name}"
        )
    )


@app.command()
def test() -> None:
    """Send a test event to every configured webhook (exit 1 when one did not take it)."""
    from tickcast.ops.alerts import AlertEvent, send

    with handled_errors():
        settings = state.settings()
        if not settings.alerts.webhooks:
            console.print("no webhook configured (alerts.webhooks): events are only stored")
            return
        event = AlertEvent(kind="test", summary="a test event from `tickcast alerts test`")
        deliveries = send(settings, event)
    for delivery in deliveries:
        outcome = f"HTTP {delivery.status}" if delivery.ok else delivery.error
        console.print(
            f"{delivery.webhook}: {'delivered' if delivery.ok else 'NOT delivered'} "
            f"({outcome}; {delivery.attempts} attempt(s), {delivery.seconds:.1f} s)"
        )
    if not all(delivery.ok for delivery in deliveries):
        raise typer.Exit(1)
