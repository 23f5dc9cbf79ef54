"""Queries on the dataset catalog."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row

from tickcast.db.connection import Connection
from tickcast.db.rows import insert_row

_JSON_COLUMNS = ("dropped_tickers", "dropped_features", "splits", "config")


def insert_dataset(conn: Connection, row: dict[str, Any]) -> bool:
    """Record a dataset version; False when that id (same content) is already catalogued."""
    inserted = insert_row(
        conn, "datasets", row, _JSON_COLUMNS, "ON CONFLICT (id) DO NOTHING RETURNING id"
    )
    return inserted is not None


def get_dataset(conn: Connection, dataset_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute("SELECT * FROM datasets WHERE id = %s", (dataset_id,))
        return cursor.fetchone()


def list_datasets(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            "SELECT id, created_at, source_start, source_end, cardinality(tickers) AS tickers,"
            " cardinality(features) AS features, horizon, sequence_length, panel_rows,"
            " content_sha256 FROM datasets ORDER BY created_at DESC LIMIT %s",
            (limit,),
        )
        return cursor.fetchall()
