"""The ingest_runs audit table and the advisory lock that lets one ingest run at a time."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from tickcast.db.connection import Connection

# Arbitrary constant identifying tickcast's ingest lock among advisory locks.
INGEST_LOCK_KEY = 7_411_502_002


def try_lock_ingest(conn: Connection) -> bool:
    """Take the session-level ingest lock without waiting; released when the connection closes."""
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (INGEST_LOCK_KEY,)).fetchone()
    return bool(row and row[0])


def unlock_ingest(conn: Connection) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s)", (INGEST_LOCK_KEY,))


def running_ingest(conn: Connection) -> tuple[int, Any] | None:
    """(id, started_at) of the newest run still marked running, if any."""
    row = conn.execute(
        "SELECT id, started_at FROM ingest_runs WHERE status = 'running' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else None


def abort_stale_runs(conn: Connection) -> int:
    """Mark runs left 'running' by a killed process as aborted (call while holding the lock)."""
    cursor = conn.execute(
        "UPDATE ingest_runs SET status = 'aborted', finished_at = now() WHERE status = 'running'"
    )
    return cursor.rowcount


def add_committed(conn: Connection, run_id: int, rows_new: int, rows_updated: int) -> None:
    """Count a batch's rows into its run; call inside the batch's transaction, so that the
    counts of a run killed later are exactly what it committed."""
    conn.execute(
        "UPDATE ingest_runs SET rows_new = rows_new + %s, rows_updated = rows_updated + %s"
        " WHERE id = %s",
        (rows_new, rows_updated, run_id),
    )


def mark_interrupted(conn: Connection, run_id: int) -> None:
    """A run stopped by the user (Ctrl-C): its counts stay what its committed batches added."""
    conn.execute(
        "UPDATE ingest_runs SET status = 'interrupted', finished_at = now()"
        " WHERE id = %s AND status = 'running'",
        (run_id,),
    )


def start_run(conn: Connection, source: str, tickers: list[str], parameters: dict[str, Any]) -> int:
    row = conn.execute(
        "INSERT INTO ingest_runs (source, tickers_requested, parameters)"
        " VALUES (%s, %s, %s) RETURNING id",
        (source, len(tickers), Jsonb(parameters)),
    ).fetchone()
    assert row is not None
    return int(row[0])


def finish_run(
    conn: Connection,
    run_id: int,
    *,
    status: str,
    totals: dict[str, int],
    tickers: list[dict[str, Any]],
    errors: list[dict[str, Any]],
) -> None:
    conn.execute(
        """
        UPDATE ingest_runs SET finished_at = now(), status = %(status)s,
            tickers_failed = %(tickers_failed)s, rows_new = %(rows_new)s,
            rows_updated = %(rows_updated)s, rows_rejected = %(rows_rejected)s,
            tickers_rebased = %(tickers_rebased)s,
            tickers = %(tickers)s, errors = %(errors)s
        WHERE id = %(id)s
        """,
        {
            "id": run_id,
            "status": status,
            "tickers": Jsonb(tickers),
            "errors": Jsonb(errors),
            **totals,
        },
    )


def get_run(conn: Connection, run_id: int) -> dict[str, Any] | None:
    with conn.cursor() as cursor:
        cursor.execute("SELECT * FROM ingest_runs WHERE id = %s", (run_id,))
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([c.name for c in cursor.description or []], row, strict=True))


def newest_run_stamp(conn: Connection) -> tuple[int, str] | None:
    """(id, status) of the newest ingest run: it changes whenever stored prices may have."""
    row = conn.execute("SELECT id, status FROM ingest_runs ORDER BY id DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else None
