"""One long-lived PostgreSQL connection for the service, shared by its threads under a lock and
reopened once when it breaks; a database that stays away is a DatabaseUnavailableError (503)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import psycopg

from tickcast.config import Settings
from tickcast.db.connection import (
    Connection,
    DatabaseUnavailableError,
    connect,
    database_url,
    ping,
)
from tickcast.db.migrate import apply_migrations

T = TypeVar("T")


class ServingDatabase:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def run(self, query: Callable[[Connection], T]) -> T:
        """`query(conn)` on the shared connection, reconnecting once if it broke."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    return query(self._connection())
                except psycopg.OperationalError as error:
                    self._close()
                    if attempt == 2:
                        raise DatabaseUnavailableError(f"database unavailable: {error}") from None
            raise AssertionError("unreachable")

    def ping(self) -> str:
        """ "ok", or why the database cannot be used."""
        try:
            self.run(ping)
        except DatabaseUnavailableError as error:
            return str(error)
        return "ok"

    def close(self) -> None:
        with self._lock:
            self._close()

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            try:
                url = database_url(self._settings)
            except Exception as error:  # the embedded server could not start
                raise DatabaseUnavailableError(f"database unavailable: {error}") from None
            self._conn = connect(url, retries=1, backoff_seconds=0.1)
            apply_migrations(self._conn)
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
