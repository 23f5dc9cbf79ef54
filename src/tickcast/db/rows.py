"""Inserting one row from a dict, with JSON columns wrapped."""

from __future__ import annotations

from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from tickcast.db.connection import Connection


def insert_row(
    conn: Connection, table: str, row: dict[str, Any], json_columns: tuple[str, ...], suffix: str
) -> tuple[Any, ...] | None:
    """INSERT `row` into `table`, then `suffix` (ON CONFLICT …, RETURNING …); the returned row."""
    values = {key: Jsonb(value) if key in json_columns else value for key, value in row.items()}
    query = sql.SQL("INSERT INTO {table} ({columns}) VALUES ({values}) ").format(
        table=sql.Identifier(table),
        columns=sql.SQL(", ").join(map(sql.Identifier, values)),
        values=sql.SQL(", ").join(map(sql.Placeholder, values)),
    ) + sql.SQL(suffix)
    return conn.execute(query, values).fetchone()
