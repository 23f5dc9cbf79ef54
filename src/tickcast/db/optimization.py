"""Queries on optimization_results."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tickcast.db.connection import Connection


def record_search(conn: Connection, row: dict[str, Any]) -> int:
    inserted = conn.execute(
        "INSERT INTO optimization_results"
        " (dataset_id, backend, trials, best_params, best_validation_loss, mlflow_run_id, seconds)"
        " VALUES (%(dataset_id)s, %(backend)s, %(trials)s, %(best_params)s,"
        " %(best_validation_loss)s, %(mlflow_run_id)s, %(seconds)s) RETURNING id",
        {**row, "trials": Jsonb(row["trials"]), "best_params": Jsonb(row["best_params"])},
    ).fetchone()
    assert inserted is not None
    return int(inserted[0])


def latest_search(conn: Connection, dataset_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            "SELECT * FROM optimization_results WHERE dataset_id = %s ORDER BY id DESC LIMIT 1",
            (dataset_id,),
        )
        return cursor.fetchone()
