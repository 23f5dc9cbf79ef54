"""`tickcast db up|down|status|migrate|backup|restore`: the embedded server, schema migrations,
and backups of everything tickcast cannot recompute."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tickcast.cli.context import console, handled_errors, state
from tickcast.db import embedded
from tickcast.db.connection import connect, redact, server_version
from tickcast.db.migrate import MigrationResult, init_database, schema_state

app = typer.Typer(
    help="Manage the PostgreSQL store (embedded server and migrations).", no_args_is_help=True
)


@app.command()
def up() -> None:
    """Start the embedded PostgreSQL (when no database URL is configured) and apply migrations."""
    with handled_errors():
        settings = state.settings()
        if settings.database.url:
            console.print(f"Using the configured database {redact(settings.database.url)}")
        else:
            server = embedded.start(settings.database.embedded_dir)
            console.print(f"Embedded PostgreSQL running in {server.directory} (pid {server.pid})")
            console.print(f"URL: {server.url}")
        _print_migrations(init_database(settings))


@app.command()
def down() -> None:
    """Stop the embedded PostgreSQL (data stays in its directory)."""
    with handled_errors():
        settings = state.settings()
        stopped = embedded.stop(settings.database.embedded_dir)
        console.print(
            "Embedded PostgreSQL stopped" if stopped else "Embedded PostgreSQL was not running"
        )


@app.command()
def status() -> None:
    """Show which database tickcast uses and whether it answers (exit 1 or 3 when not)."""
    with handled_errors():
        settings = state.settings()
        if settings.database.url:
            console.print(f"Configured database: {redact(settings.database.url)}")
            with connect(settings.database.url, retries=0) as conn:
                version = server_version(conn)
                schema = schema_state(conn)
            console.print(f"answering: PostgreSQL {version}; {schema.describe()}")
            if schema.unknown:
                raise typer.Exit(4)
            return
        server = embedded.status(settings.database.embedded_dir)
        if server is None:
            console.print(f"Embedded PostgreSQL in {settings.database.embedded_dir}: not running")
            raise typer.Exit(1)
        console.print(f"Embedded PostgreSQL in {server.directory}: running (pid {server.pid})")
        console.print(f"URL: {server.url}")


@app.command()
def migrate() -> None:
    """Apply pending schema migrations (idempotent, safe to run concurrently)."""
    with handled_errors():
        _print_migrations(init_database(state.settings()))


@app.command()
def backup(
    destination: Annotated[
        str, typer.Argument(help="a folder, or an fsspec URL such as s3://bucket/backups")
    ],
    keep: Annotated[
        int | None,
        typer.Option(min=1, max=1000, help="backups kept there (default backup.keep)"),
    ] = None,
    dumps: Annotated[
        Path | None,
        typer.Option(
            help="a folder with tickcast.dump and mlflow.dump made by the server's own pg_dump "
            "(the chart's backup job), taken instead of dumping here"
        ),
    ] = None,
) -> None:
    """Back up the tickcast database, the MLflow store and a local artifact root into a new
    folder under DESTINATION, then remove the oldest beyond --keep."""
    from tickcast.ops.backup import backup as run_backup

    with handled_errors():
        with console.status("backing up…"):
            result = run_backup(state.settings(), destination, keep, dumps)
        manifest = result.manifest
        console.print(
            f"Backup written to {result.location} (schema version {manifest.schema_version})"
        )
        for item in manifest.files():
            console.print(f"  {item.name}: {item.bytes:,} bytes")
        for note in manifest.notes:
            console.print(f"  {note}")
        for name in result.removed:
            console.print(f"  removed the older backup {name}")


@app.command()
def restore(
    source: Annotated[
        str, typer.Argument(help="a backup folder, or a destination (its newest backup)")
    ],
) -> None:
    """Restore a backup into the configured stores, which must be empty; stored artifact URIs
    follow a moved artifact root; the schema is migrated to this tickcast's."""
    from tickcast.ops.backup import restore as run_restore

    with handled_errors():
        with console.status("restoring…"):
            result = run_restore(state.settings(), source)
        console.print(
            f"Restored {result.location} (made {result.manifest.created_at:%Y-%m-%d %H:%M} UTC "
            f"by tickcast {result.manifest.tickcast_version})"
        )
        if result.relocated:
            console.print(f"  {result.relocated} stored artifact URIs point at the new root")
        _print_migrations(result.migrations)


def _print_migrations(result: MigrationResult) -> None:
    applied = ", ".join(result.applied) or "none"
    console.print(f"Schema at version {result.current_version}; applied now: {applied}")
    for notice in result.notices:
        console.print(f"  {notice}")
