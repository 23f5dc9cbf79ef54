"""Ingest as separate processes: killed mid-run, and two at the same time."""

from __future__ import annotations

import signal
import time

import pytest

from tests.integration.cli import run, start, tickcast_env
from tickcast.db.connection import Connection, connect
from tickcast.db.ingest_runs import INGEST_LOCK_KEY
from tickcast.db.migrate import apply_migrations
from tickcast.db.prices import count_prices

pytestmark = pytest.mark.slow

SYNTHETIC = {
    "TICKCAST_DATA__SOURCE": "synthetic",
    "TICKCAST_DATA__SYNTHETIC__START": "2009-01-02",
    "TICKCAST_DATA__SYNTHETIC__END": "2016-12-30",
}
ROWS_PER_TICKER = 2014  # XNYS sessions from 2009-01-02 to 2016-12-30


def test_killed_ingest_leaves_no_partial_batch_and_the_next_run_completes(
    database_url: str,
) -> None:
    env = tickcast_env(
        database_url,
        **SYNTHETIC,
        TICKCAST_DATA__SYNTHETIC__N_TICKERS="150",
        TICKCAST_INGEST__BATCH_ROWS="4000",  # two tickers per transaction
    )
    process = start("ingest", env=env)
    with connect(database_url) as conn:
        _wait_for_the_first_batch(conn)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        stored = count_prices(conn)
        status = conn.execute("SELECT status, rows_new FROM ingest_runs").fetchall()

    assert process.returncode == -signal.SIGKILL
    assert 0 < len(stored) < 150, "the kill must land mid-run"
    assert len(stored) % 2 == 0  # whole batches only
    assert set(stored.values()) == {ROWS_PER_TICKER}  # no ticker half-written
    committed = sum(stored.values())
    assert status == [("running", committed)]  # the record counts what the killed run committed

    finished = run("ingest", env=env)
    assert finished.returncode == 0, finished.stderr
    with connect(database_url) as conn:
        stored = count_prices(conn)
        runs = conn.execute("SELECT status, rows_new FROM ingest_runs ORDER BY id").fetchall()
    assert len(stored) == 150
    assert set(stored.values()) == {ROWS_PER_TICKER}
    assert runs == [("aborted", committed), ("succeeded", 150 * ROWS_PER_TICKER - committed)]


@pytest.mark.parametrize(
    ("stop", "code", "said"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["ctrl-c", "sigterm"],
)
def test_a_stopped_ingest_marks_the_run_interrupted_with_what_it_committed(
    database_url: str, stop: signal.Signals, code: int, said: str
) -> None:
    env = tickcast_env(
        database_url,
        **SYNTHETIC,
        TICKCAST_DATA__SYNTHETIC__N_TICKERS="150",
        TICKCAST_INGEST__BATCH_ROWS="4000",
    )
    process = start("ingest", env=env)
    with connect(database_url) as conn:
        _wait_for_the_first_batch(conn)
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=60)
        stored = count_prices(conn)
        runs = conn.execute("SELECT status, rows_new, finished_at IS NOT NULL FROM ingest_runs")

        assert process.returncode == code, stderr
        assert said in stderr and "Traceback" not in stderr
        assert 0 < len(stored) < 150 and set(stored.values()) == {ROWS_PER_TICKER}
        assert runs.fetchall() == [("interrupted", sum(stored.values()), True)]


def _wait_for_the_first_batch(conn: Connection, timeout: float = 60) -> None:
    """Until the first batch has committed (the table may not exist yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exists = conn.execute("SELECT to_regclass('raw_prices') IS NOT NULL").fetchone()
        if exists and exists[0] and count_prices(conn):
            return
        time.sleep(0.02)


def test_a_second_ingest_is_refused_while_one_holds_the_lock(database_url: str) -> None:
    env = tickcast_env(database_url, **SYNTHETIC, TICKCAST_DATA__SYNTHETIC__N_TICKERS="3")
    with connect(database_url) as holder:
        apply_migrations(holder)
        holder.execute("SELECT pg_advisory_lock(%s)", (INGEST_LOCK_KEY,))
        refused = run("ingest", env=env)
        waiting = start("ingest", "--wait", "60", env=env)
        time.sleep(2.0)
        assert waiting.poll() is None  # still waiting for the lock
        holder.execute("SELECT pg_advisory_unlock(%s)", (INGEST_LOCK_KEY,))
        _, stderr = waiting.communicate(timeout=120)

    assert refused.returncode == 75
    assert "another ingest holds the lock" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert waiting.returncode == 0, stderr
    with connect(database_url) as conn:
        assert count_prices(conn) == dict.fromkeys(["SYN000", "SYN001", "SYN002"], ROWS_PER_TICKER)


def test_simultaneous_ingests_store_no_duplicates(database_url: str) -> None:
    env = tickcast_env(database_url, **SYNTHETIC, TICKCAST_DATA__SYNTHETIC__N_TICKERS="40")
    processes = [start("ingest", env=env) for _ in range(2)] + [
        start("ingest", "--wait", "120", env=env)
    ]
    outputs = [p.communicate(timeout=180) for p in processes]
    codes = [p.returncode for p in processes]

    assert codes[2] == 0, outputs[2][1]
    for code, (_, stderr) in zip(codes[:2], outputs[:2], strict=True):
        assert code in (0, 75), stderr
        if code == 75:
            assert "another ingest holds the lock" in stderr
    with connect(database_url) as conn:
        stored = count_prices(conn)
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (ticker, trade_date)) FROM raw_prices"
        ).fetchone()  # type: ignore[misc]
    assert len(stored) == 40
    assert total == distinct == 40 * ROWS_PER_TICKER
