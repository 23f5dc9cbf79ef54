"""Queries on the model_promotions audit table."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row

from tickcast.db.connection import Connection
from tickcast.db.rows import insert_row

_JSON_COLUMNS = ("rule", "metrics")


def record_promotion(conn: Connection, row: dict[str, Any]) -> int:
    inserted = insert_row(conn, "model_promotions", row, _JSON_COLUMNS, "RETURNING id")
    assert inserted is not None
    return int(inserted[0])


def promotion_history(conn: Connection, model_name: str, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first."""
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            "SELECT * FROM model_promotions WHERE model_name = %s ORDER BY id DESC LIMIT %s",
            (model_name, limit),
        )
        return cursor.fetchall()


def last_alias_move_to(conn: Connection, model_name: str, version: int) -> dict[str, Any] | None:
    """The newest promotion that moved the alias onto `version` (what a rollback undoes; rollbacks
    themselves are skipped, so repeated rollbacks walk back through history)."""
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            "SELECT * FROM model_promotions WHERE model_name = %s AND production_after = %s"
            " AND action = 'promote' AND promoted ORDER BY id DESC LIMIT 1",
            (model_name, version),
        )
        return cursor.fetchone()
