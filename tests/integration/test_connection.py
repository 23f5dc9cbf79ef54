import threading
import time
from pathlib import Path

import pytest

from tickcast.db import embedded
from tickcast.db.connection import DatabaseUnavailableError, connect, redact


def test_retries_until_the_server_is_up(tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("late") / "pg"
    # pgserver listens on a Unix socket inside its data directory when the path is short enough.
    url = f"postgresql://postgres:@/postgres?host={directory}"
    starter = threading.Timer(1.0, embedded.start, args=(directory,))
    started = time.monotonic()
    starter.start()
    try:
        with connect(url, retries=8, backoff_seconds=0.25) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert time.monotonic() - started >= 1.0
        assert embedded.status(directory) is not None
        assert embedded.status(directory).url.endswith(f"host={directory}")  # type: ignore[union-attr]
    finally:
        starter.join()
        embedded.stop(directory)


def test_gives_up_with_a_clear_message(tmp_path: Path) -> None:
    url = f"postgresql://tickcast:s3cret@/tickcast?host={tmp_path}"
    with pytest.raises(DatabaseUnavailableError) as raised:
        connect(url, retries=2, backoff_seconds=0.01)
    message = str(raised.value)
    assert "did not answer after 3 attempts" in message
    assert "s3cret" not in message
    assert "***" in redact(url)


def test_a_server_that_answers_with_an_error_is_not_retried(server_url: str) -> None:
    """An unknown database or role will not appear by waiting: reported at once, with the
    server's own words."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(server_url)
    for change, words in (
        ({"dbname": "no_such_db"}, 'database "no_such_db" does not exist'),
        ({"user": "nobody"}, 'role "nobody" does not exist'),
    ):
        url = make_conninfo(**{**params, **change})  # type: ignore[arg-type]
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailableError, match="refused the connection") as raised:
            connect(url, retries=5, backoff_seconds=2.0)
        assert time.monotonic() - started < 2.0  # not one backoff waited
        assert words in str(raised.value)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql://u:s3cret@no-such-host.invalid/db", "failed to resolve host"),
        ("postgresql://u:s3cret@127.0.0.1:70000/db", 'invalid port number: "70000"'),
    ],
)
def test_a_host_that_cannot_resolve_or_an_impossible_port_is_not_retried(
    url: str, words: str, caplog: pytest.LogCaptureFixture
) -> None:
    started = time.monotonic()
    with pytest.raises(
        DatabaseUnavailableError, match=r"not retried: check database\.url"
    ) as raised:
        connect(url, retries=5, backoff_seconds=2.0)
    assert time.monotonic() - started < 2.0  # not one backoff waited
    assert words in str(raised.value) and "s3cret" not in str(raised.value)
    assert "retrying" not in caplog.text
