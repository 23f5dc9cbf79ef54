"""Queries on optimization_results."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row

from tickcast.db.connection import Connection
from tickcast.db.rows import insert_row


def record_search(conn: Connection, row: dict[str, Any]) -> int:
    inserted = insert_row(
        conn, "optimization_results", row, ("trials", "best_params"), "RETURNING id"
    )
    assert inserted is not None
    return int(inserted[0])


def latest_search(conn: Connection, dataset_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            "SELECT * FROM optimization_results WHERE dataset_id = %s ORDER BY id DESC LIMIT 1",
            (dataset_id,),
        )
        return cursor.fetchone()
