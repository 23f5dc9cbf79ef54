"""A local MLflow store (one SQLite file): copied consistently while it may be written, judged
empty or not, and moved to another artifact root."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def copy_store(source: Path, target: Path) -> int:
    """A consistent copy of the SQLite file `source` at `target` (SQLite's online backup: a
    writer at the same time waits or is waited for, never half-copied); its size in bytes."""
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)
    return target.stat().st_size


def holds_runs(store: Path) -> bool:
    """Does the MLflow store at `store` hold a run or a registered model? (A missing file, or
    the empty store MLflow creates on first use, does not.)"""
    if not store.exists():
        return False
    with closing(sqlite3.connect(store)) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        for table in ("runs", "registered_models"):
            if table in tables and conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                return True
    return False


def relocate_store(store: Path, old_root: str, new_root: str) -> int:
    """Rewrite every text value starting with `old_root` (artifact locations of experiments,
    runs, logged models and model versions, whichever columns this MLflow version has) to start
    with `new_root` instead; the number of values moved."""
    moved = 0
    with closing(sqlite3.connect(store)) as conn, conn:
        tables = [
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not row[0].startswith("sqlite_")
        ]
        for table in tables:
            columns = [
                column[1]
                for column in conn.execute(f'PRAGMA table_info("{table}")')
                if column[2].upper() in ("TEXT", "VARCHAR")
                or column[2].upper().startswith("VARCHAR")
            ]
            for column in columns:
                cursor = conn.execute(
                    f'UPDATE "{table}" SET "{column}" = ? || substr("{column}", ?) '
                    f'WHERE substr("{column}", 1, ?) = ?',
                    (new_root, len(old_root) + 1, len(old_root), old_root),
                )
                moved += cursor.rowcount
    return moved
