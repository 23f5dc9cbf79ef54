"""Connections to PostgreSQL: the configured URL or the embedded server, with retry and backoff."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus

from tickcast.config import Settings
from tickcast.db import embedded

log = logging.getLogger(__name__)

Connection = psycopg.Connection[tuple]  # type: ignore[type-arg]


class DatabaseUnavailableError(RuntimeError):
    """PostgreSQL did not answer after every retry, or answered with an error (unknown database,
    bad password) that no retry can fix."""


# Server answers that pass with time: retried like a server that is not up yet.
_TRANSIENT = ("starting up", "shutting down", "in recovery mode", "too many")
# Connection failures that no wait cures (a name that does not resolve, a port that cannot be):
# refused at once. A refused or timed-out connection, or a failed lookup (EAI_AGAIN), is retried.
_PERMANENT = (
    "Name or service not known",
    "nodename nor servname provided",
    "No address associated with hostname",
    "invalid port number",
    "invalid connection option",
    "invalid integer value",
    "invalid sslmode value",
)


def database_url(settings: Settings) -> str:
    """The configured URL, or the URL of the embedded server (started on demand)."""
    if settings.database.url:
        return settings.database.url
    return embedded.start(settings.database.embedded_dir).url


def redact(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    params = conninfo_to_dict(url)
    if params.get("password"):
        params["password"] = "***"
    return make_conninfo(**params)  # type: ignore[arg-type]


def connect(url: str, *, retries: int = 5, backoff_seconds: float = 0.5) -> Connection:
    """Connect, retrying with exponential backoff while the server is not up yet.

    The connection is in autocommit mode: every multi-statement write runs inside an explicit
    `with conn.transaction():` block, so each block commits on its own.
    """
    for attempt in range(retries + 1):
        try:
            return psycopg.connect(url, connect_timeout=10, autocommit=True)
        except psycopg.OperationalError as error:
            message = str(error)
            if any(words in message for words in _PERMANENT):
                raise DatabaseUnavailableError(
                    f"PostgreSQL at {redact(url)} cannot be reached: {' '.join(message.split())} "
                    "(not retried: check database.url)"
                ) from error
            if "FATAL:" in message and not any(word in message for word in _TRANSIENT):
                refusal = message.split("FATAL:", 1)[1].split("\n")[0].strip()
                raise DatabaseUnavailableError(
                    f"PostgreSQL at {redact(url)} refused the connection: {refusal}"
                ) from error
            if attempt == retries:
                tries = f"{retries + 1} attempts" if retries else "1 attempt"
                raise DatabaseUnavailableError(
                    f"PostgreSQL at {redact(url)} did not answer after {tries}: "
                    f"{' '.join(message.split())}"
                ) from error
            delay = backoff_seconds * 2**attempt
            log.warning(
                "PostgreSQL not reachable (attempt %d), retrying in %.1fs", attempt + 1, delay
            )
            time.sleep(delay)
    raise AssertionError("unreachable")


# Idle connections kept for the next open_connection of the same process, thread and URL, newest
# last: a daily run opens about a dozen, and a new one costs milliseconds.
_IDLE: OrderedDict[tuple[int, int, str], Connection] = OrderedDict()
_IDLE_KEPT = 4
_IDLE_LOCK = threading.Lock()


@contextmanager
def open_connection(settings: Settings) -> Iterator[Connection]:
    """A connection for the configured database: an idle one of this thread if it still answers,
    else a new one. Kept for reuse after a clean exit outside any transaction; closed after an
    exception (so a session-level lock or a half-done transaction never outlives it)."""
    url = database_url(settings)
    key = (os.getpid(), threading.get_ident(), url)
    conn = _reusable(key)
    if conn is None:
        conn = connect(
            url,
            retries=settings.database.connect_retries,
            backoff_seconds=settings.database.connect_backoff_seconds,
        )
    try:
        yield conn
    except BaseException:
        conn.close()
        raise
    if conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
        conn.close()
        return
    with _IDLE_LOCK:
        if key in _IDLE:  # a nested open_connection kept one first
            conn.close()
            return
        _IDLE[key] = conn
        while len(_IDLE) > _IDLE_KEPT:
            _IDLE.popitem(last=False)[1].close()


def _reusable(key: tuple[int, int, str]) -> Connection | None:
    with _IDLE_LOCK:
        conn = _IDLE.pop(key, None)
    if conn is None:
        return None
    try:
        ping(conn)  # the server may have restarted, or the database been dropped
    except psycopg.Error:
        conn.close()
        return None
    return conn


def close_idle_connections() -> None:
    """Close every kept connection (e.g. before stopping the embedded server)."""
    with _IDLE_LOCK:
        while _IDLE:
            _IDLE.popitem()[1].close()


def server_version(conn: Connection) -> str:
    """The server's version, e.g. 16.4."""
    row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def ping(conn: Connection) -> None:
    """A round trip: raises psycopg.OperationalError when the server is gone."""
    conn.execute("SELECT 1").fetchone()
