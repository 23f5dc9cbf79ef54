"""Queries on retrain_decisions."""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg.rows import dict_row

from tickcast.db.connection import Connection
from tickcast.db.rows import insert_row


def record_decision(conn: Connection, row: dict[str, Any]) -> int:
    inserted = insert_row(conn, "retrain_decisions", row, ("reasons", "metrics"), "RETURNING id")
    assert inserted is not None
    return int(inserted[0])


def last_retrain(conn: Connection, model_name: str, before: date) -> date | None:
    """The newest session before `before` on which a retrain was decided."""
    row = conn.execute(
        "SELECT max(as_of) FROM retrain_decisions"
        " WHERE model_name = %s AND decision = 'retrain' AND as_of < %s",
        (model_name, before),
    ).fetchone()
    return row[0] if row else None


def decisions(conn: Connection, model_name: str, limit: int = 100) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            "SELECT * FROM retrain_decisions WHERE model_name = %s ORDER BY as_of DESC, id DESC LIMIT %s",
            (model_name, limit),
        )
        return cursor.fetchall()
