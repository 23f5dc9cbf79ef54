"""Queries on the dataset catalog."""

from __future__ import annotations

from typing import Any

from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tickcast.db.connection import Connection

_JSON_COLUMNS = ("dropped_tickers", "dropped_features", "splits", "config")


def insert_dataset(conn: Connection, row: dict[str, Any]) -> bool:
    """Record a dataset version; False when that id (same content) is already catalogued."""
    values = {key: Jsonb(value) if key in _JSON_COLUMNS else value for key, value in row.items()}
    query = sql.SQL(
        "INSERT INTO datasets ({columns}) VALUES ({values}) ON CONFLICT (id) DO NOTHING RETURNING id"
    ).format(
        columns=sql.SQL(", ").join(map(sql.Identifier, values)),
        values=sql.SQL(", ").join(map(sql.Placeholder, values)),
    )
    return conn.execute(query, values).fetchone() is not None


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
