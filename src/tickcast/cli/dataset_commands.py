"""`tickcast dataset build|list|show`: versioned datasets and their catalog."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.markdown import Markdown

from tickcast.cli.context import console, handled_errors, state
from tickcast.cli.tables import Column, fitted_table
from tickcast.db.connection import open_connection
from tickcast.db.datasets import list_datasets
from tickcast.features.dataset import build_dataset, load_dataset

app = typer.Typer(help="Build and inspect versioned datasets.", no_args_is_help=True)


@app.command()
def build(
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Use stored prices up to this session."
    ),
) -> None:
    """Build a dataset version from every stored price (the same content gives the same id)."""
    with handled_errors():
        settings = state.settings()
        with console.status("building dataset") as status:
            version = build_dataset(
                settings,
                as_of=as_of.date() if as_of else None,
                on_stage=lambda stage: status.update(f"building dataset: {stage}"),
            )
    console.print(Markdown(version.report))
    console.print(f"id {version.id}  sha256 {version.content_sha256}")
    console.print(f"artifact {version.artifact_uri}")


@app.command("list")
def list_command(limit: int = typer.Option(20, help="How many versions, newest first.")) -> None:
    """List catalogued dataset versions."""
    with handled_errors(), open_connection(state.settings()) as conn:
        rows = list_datasets(conn, limit)
    columns = [
        Column("id"),
        Column("created", 2),
        Column("sessions"),
        Column("tickers", 1, "right"),
        Column("features", 2, "right"),
        Column("horizon", 3, "right"),
        Column("seq", 3, "right"),
        Column("rows", 1, "right"),
    ]
    table = fitted_table(
        console,
        columns,
        (
            [
                row["id"],
                f"{row['created_at']:%Y-%m-%d %H:%M}",
                f"{row['source_start']} .. {row['source_end']}",
                str(row["tickers"]),
                str(row["features"]),
                str(row["horizon"]),
                str(row["sequence_length"]),
                str(row["panel_rows"]),
            ]
            for row in rows
        ),
        title="dataset versions",
    )
    console.print(table)


@app.command()
def show(
    dataset_id: str = typer.Argument(..., help="A dataset id from `tickcast dataset list`."),
) -> None:
    """Show a version's report and check its arrays against the catalog hash."""
    with handled_errors():
        version, arrays = load_dataset(state.settings(), dataset_id)
    console.print(Markdown(version.report))
    shape = arrays.matrix.values.shape
    console.print(
        f"arrays {shape} (sessions, stocks, features) verified against sha256 {version.content_sha256}"
    )
