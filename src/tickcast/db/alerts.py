"""Queries on alerts."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tickcast.db.connection import Connection
from tickcast.db.rows import insert_row


def record_alert(conn: Connection, row: dict[str, Any]) -> int:
    inserted = insert_row(conn, "alerts", row, ("details", "deliveries"), "RETURNING id")
    assert inserted is not None
    return int(inserted[0])


def record_deliveries(conn: Connection, alert_id: int, deliveries: list[dict[str, Any]]) -> None:
    with conn.transaction():
        conn.execute(
            "UPDATE alerts SET deliveries = %s WHERE id = %s", (Jsonb(deliveries), alert_id)
        )


def last_fingerprint(conn: Connection, model_name: str, kind: str) -> str | None:
    """The fingerprint of the newest alert of `kind` for the model (None: none yet)."""
    row = conn.execute(
        "SELECT fingerprint FROM alerts WHERE model_name = %s AND kind = %s ORDER BY id DESC LIMIT 1",
        (model_name, kind),
    ).fetchone()
    return row[0] if row else None


def recent_alerts(conn: Connection, model_name: str, limit: int = 50) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            "SELECT * FROM alerts WHERE model_name = %s ORDER BY id DESC LIMIT %s",
            (model_name, limit),
        )
        return cursor.fetchall()
