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


def set_collected(conn: Connection, dataset_id: str, collected: bool) -> None:
    """Mark a version's arrays deleted by retention (or written back: not collected)."""
    conn.execute(
        "UPDATE datasets SET collected_at = CASE WHEN %s THEN now() END WHERE id = %s",
        (collected, dataset_id),
    )


def retention_candidates(conn: Connection) -> list[dict[str, Any]]:
    """Every version whose arrays are still there, newest first: id, artifact URI, created."""
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            "SELECT id, artifact_uri, created_at FROM datasets WHERE collected_at IS NULL"
            " ORDER BY created_at DESC"
        )
        return cursor.fetchall()


def promoted_datasets(conn: Connection, model_name: str, versions: list[int]) -> set[str]:
    """The dataset ids the promotion audit records for these candidate versions."""
    rows = conn.execute(
        "SELECT DISTINCT dataset_id FROM model_promotions WHERE model_name = %s"
        " AND candidate_version = ANY(%s) AND dataset_id IS NOT NULL",
        (model_name, versions),
    ).fetchall()
    return {row[0] for row in rows}
