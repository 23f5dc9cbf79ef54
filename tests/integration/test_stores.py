"""A pipeline's first step waits for its stores, bounded: a tracking server that comes up late
is waited for, stores that never answer are named after the wait, a refused login fails at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.processes import free_port
from tickcast.config import Settings
from tickcast.ops.stores import StoresUnavailableError, wait_for_stores


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def tracking_server_after(seconds: float, port: int) -> Iterator[None]:
    """An HTTP server answering /health on `port`, started `seconds` from now."""
    servers: list[ThreadingHTTPServer] = []

    def start() -> None:
        servers.append(ThreadingHTTPServer(("127.0.0.1", port), _Health))
        servers[0].serve_forever()

    timer = threading.Timer(seconds, start)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if servers:
            servers[0].shutdown()
            servers[0].server_close()


def test_a_tracking_server_that_starts_late_is_waited_for(database_url: str) -> None:
    port = free_port()
    settings = Settings(
        database={"url": database_url}, mlflow={"tracking_uri": f"http://127.0.0.1:{port}"}
    )
    with tracking_server_after(2.0, port):
        started = time.monotonic()
        wait_for_stores(settings, seconds=60, poll_seconds=0.5)
        assert 2.0 <= time.monotonic() - started < 30


def test_stores_that_never_answer_are_named_after_the_wait() -> None:
    pg_port, mlflow_port = free_port(), free_port()
    settings = Settings(
        database={"url": f"postgresql://tickcast:secret@127.0.0.1:{pg_port}/tickcast"},
        mlflow={"tracking_uri": f"http://127.0.0.1:{mlflow_port}"},
    )
    started = time.monotonic()
    with pytest.raises(StoresUnavailableError, match="not answering after 2 s") as raised:
        wait_for_stores(settings, seconds=2, poll_seconds=0.5)
    assert time.monotonic() - started < 20
    message = str(raised.value)
    assert f"PostgreSQL at host=127.0.0.1 port={pg_port}" in message or str(pg_port) in message
    assert f"MLflow at http://127.0.0.1:{mlflow_port}" in message
    assert "secret" not in message


def test_a_refused_login_fails_at_once(database_url: str) -> None:
    wrong = make_conninfo(**{**conninfo_to_dict(database_url), "dbname": "no_such_database"})  # type: ignore[arg-type]
    settings = Settings(database={"url": wrong})
    started = time.monotonic()
    with pytest.raises(StoresUnavailableError, match="refused the connection"):
        wait_for_stores(settings, seconds=300, poll_seconds=0.5)
    assert time.monotonic() - started < 15
