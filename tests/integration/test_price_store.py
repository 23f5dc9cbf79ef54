"""The bulk merge into raw_prices, called directly."""

from __future__ import annotations

import threading
import time
from datetime import date

import pandas as pd
import psycopg
import pytest

from tickcast.db.connection import connect
from tickcast.db.migrate import apply_migrations
from tickcast.db.prices import last_stored_dates, load_prices, prices_version, upsert_prices


def prices(ticker: str, days: list[str], close: float = 10.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ticker": ticker,
            "trade_date": pd.to_datetime(days),
            "open": close,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "adj_close": close,
            "volume": 1000,
        }
    )


def test_counts_new_updated_and_unchanged_rows(database_url: str) -> None:
    with connect(database_url) as conn:
        apply_migrations(conn)
        with conn.transaction():
            first = upsert_prices(conn, prices("AAA", ["2017-01-03", "2017-01-04"]), "test")
        assert (first.new, first.updated) == ({"AAA": 2}, {})

        changed = pd.concat(
            [
                prices("AAA", ["2017-01-03"]),  # identical: untouched
                prices("AAA", ["2017-01-04"], close=10.5),  # changed: updated
                prices("BBB", ["2017-01-04"]),  # new key
            ]
        )
        with conn.transaction():
            second = upsert_prices(conn, changed, "test")
        assert (second.new, second.updated) == ({"BBB": 1}, {"AAA": 1})
        stored = load_prices(conn, ["AAA"])
        assert stored["close"].tolist() == [10.0, 10.5]
        assert last_stored_dates(conn, ["AAA", "BBB", "CCC"]) == {
            "AAA": date(2017, 1, 4),
            "BBB": date(2017, 1, 4),
        }


@pytest.mark.parametrize("has_history", [False, True], ids=["first-load", "merge"])
def test_a_key_added_by_an_outside_writer_mid_merge_is_kept(
    database_url: str, has_history: bool
) -> None:
    with connect(database_url) as conn:
        apply_migrations(conn)
        if has_history:
            upsert_prices(conn, prices("AAA", ["2016-12-30"]), "test")
    outsider = connect(database_url)
    outsider.execute("BEGIN")
    outsider.execute(
        "INSERT INTO raw_prices (ticker, trade_date, open, high, low, close, adj_close, volume, source)"
        " VALUES ('AAA', '2017-01-04', 20, 21, 19, 20, 20, 5, 'outsider')"
    )
    # The merge's INSERT waits on the outsider's uncommitted key, then hits it once it commits.
    committer = threading.Timer(1.0, outsider.execute, args=("COMMIT",))
    committer.start()
    started = time.monotonic()
    with connect(database_url) as conn:
        with conn.transaction():
            counts = upsert_prices(
                conn, prices("AAA", ["2017-01-03", "2017-01-04", "2017-01-05"]), "test"
            )
        stored = load_prices(conn, ["AAA"])
    committer.join()
    outsider.close()

    assert time.monotonic() - started >= 1.0
    days = [date(2017, 1, 3), date(2017, 1, 4), date(2017, 1, 5)]
    assert stored["trade_date"].tolist()[-3:] == days  # no duplicate, nothing lost
    assert len(stored) == 3 + has_history
    assert counts.new == {"AAA": 2}
    if has_history:  # the merge's INSERT met the key: ON CONFLICT DO NOTHING keeps the outsider's
        assert stored["source"].tolist()[-3:] == ["test", "outsider", "test"]
        assert counts.updated == {}
    else:  # the first-load COPY met the key: the merge that follows updates it to this batch
        assert stored["source"].tolist()[-3:] == ["test", "test", "test"]
        assert counts.updated == {"AAA": 1}


def test_every_write_moves_the_prices_version(database_url: str) -> None:
    """Caches of what was computed from stored prices are keyed on it (feature matrices, the
    stored-data check): any statement that changes raw_prices must move it, a read must not."""
    with connect(database_url) as conn:
        apply_migrations(conn)
        seen = [prices_version(conn)]

        def moved() -> bool:
            seen.append(prices_version(conn))
            return seen[-1] != seen[-2]

        with conn.transaction():
            upsert_prices(conn, prices("AAA", ["2017-01-03", "2017-01-04"]), "test")
        assert moved()
        load_prices(conn, ["AAA"])
        last_stored_dates(conn, None)
        assert not moved()
        conn.execute("UPDATE raw_prices SET volume = volume + 1 WHERE trade_date = '2017-01-04'")
        assert moved()
        conn.execute("DELETE FROM raw_prices WHERE trade_date = '2017-01-04'")
        assert moved()
        with conn.transaction():
            upsert_prices(conn, prices("AAA", ["2017-01-04"], close=11.0), "test")
        assert moved()
        with conn.transaction():  # rolled back: neither the rows nor the version change
            conn.execute("TRUNCATE raw_prices")
            assert prices_version(conn) != seen[-1]
            raise psycopg.Rollback()
        assert not moved() and len(load_prices(conn, None)) == 2
        conn.execute("TRUNCATE raw_prices")
        assert moved()
