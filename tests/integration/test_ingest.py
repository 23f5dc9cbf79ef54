from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.bad_inputs import ROWS, stored_rows_of, write_catalogue
from tests.conftest import copy_stocknet
from tickcast.config import Settings
from tickcast.data.calendar import trading_calendar
from tickcast.data.ingest import ingest_prices
from tickcast.db.connection import connect
from tickcast.db.ingest_runs import get_run
from tickcast.db.migrate import apply_migrations
from tickcast.db.prices import count_prices, load_prices

TICKERS = ["AAPL", "BABA", "GMRE", "PTR", "XOM"]  # long, late starter, short, with a null row


@pytest.fixture
def csv_dir(stocknet_dir: Path, tmp_path: Path) -> Path:
    return copy_stocknet(TICKERS, tmp_path / "prices")


def table(url: str) -> pd.DataFrame:
    with connect(url) as conn:
        rows = conn.execute("SELECT * FROM raw_prices ORDER BY ticker, trade_date").fetchall()
    return pd.DataFrame(rows)


def test_stocknet_lands_whole_and_a_rerun_changes_nothing(
    settings: Settings, csv_dir: Path
) -> None:
    first = ingest_prices(settings, source="csv", csv_path=csv_dir)
    expected = {t: len(pd.read_csv(csv_dir / f"{t}.csv")) for t in TICKERS}
    expected["PTR"] -= 1  # its all-null placeholder row is dropped
    assert first.status == "succeeded"
    assert {t.ticker: t.rows_new for t in first.tickers} == expected
    assert first.rows_rejected == 1
    url = settings.database.url
    assert url is not None
    before = table(url)

    second = ingest_prices(settings, source="csv", csv_path=csv_dir)
    assert (second.rows_new, second.rows_updated) == (0, 0)
    assert {t.status for t in second.tickers} == {"unchanged"}
    pd.testing.assert_frame_equal(table(url), before)  # ingested_at untouched too

    refreshed = ingest_prices(settings, source="csv", csv_path=csv_dir, full_refresh=True)
    assert (refreshed.rows_new, refreshed.rows_updated) == (0, 0)
    pd.testing.assert_frame_equal(table(url), before)


def test_two_more_days_add_exactly_those_rows(settings: Settings, csv_dir: Path) -> None:
    calendar = trading_calendar()
    last = date(2017, 9, 1)
    two_back = calendar.previous_session(calendar.previous_session(last))
    ingest_prices(settings, source="csv", csv_path=csv_dir, end=two_back)
    url = settings.database.url
    assert url is not None
    before = table(url)

    later = ingest_prices(settings, source="csv", csv_path=csv_dir)
    assert {t.ticker: t.rows_new for t in later.tickers} == dict.fromkeys(TICKERS, 2)
    assert later.rows_updated == 0
    with connect(url) as conn:
        prices = load_prices(conn)
    new_dates = prices[prices["trade_date"] > two_back]
    assert sorted(set(new_dates["trade_date"])) == [date(2017, 8, 31), date(2017, 9, 1)]
    assert len(new_dates) == 2 * len(TICKERS)
    after = table(url)
    old_part = after[after[1] <= two_back].reset_index(drop=True)
    pd.testing.assert_frame_equal(old_part, before)


def test_changed_history_is_updated_on_full_refresh(settings: Settings, csv_dir: Path) -> None:
    ingest_prices(settings, source="csv", csv_path=csv_dir)
    frame = pd.read_csv(csv_dir / "XOM.csv")
    frame.loc[frame.index[:-10], "Adj Close"] *= 0.98  # changed before the re-read sessions
    frame.to_csv(csv_dir / "XOM.csv", index=False)

    incremental = ingest_prices(settings, source="csv", csv_path=csv_dir)
    assert incremental.rows_updated == 0  # the re-read sessions are unchanged
    assert incremental.rows_rejected == 0 and not any(t.rebased for t in incremental.tickers)
    refreshed = ingest_prices(settings, source="csv", csv_path=csv_dir, full_refresh=True)
    changed = len(frame) - 10
    assert {t.ticker: t.rows_updated for t in refreshed.tickers if t.rows_updated} == {
        "XOM": changed
    }
    assert refreshed.rows_new == 0


def test_a_re_written_recent_history_is_healed_by_the_next_ingest(
    settings: Settings, csv_dir: Path
) -> None:
    """The source changed stored sessions the incremental fetch reads again: the ticker is
    re-read whole and its changed rows replaced, the revision recorded; the rows re-read are
    neither new nor rejected."""
    ingest_prices(settings, source="csv", csv_path=csv_dir)
    frame = pd.read_csv(csv_dir / "XOM.csv")
    frame.loc[frame.index[-3:], "Adj Close"] *= 0.98
    frame.to_csv(csv_dir / "XOM.csv", index=False)

    healed = ingest_prices(settings, source="csv", csv_path=csv_dir)
    outcomes = {t.ticker: t for t in healed.tickers}
    assert outcomes["XOM"].rebased and outcomes["XOM"].rebase_ratio is None  # not one factor
    assert (healed.rows_updated, healed.rows_new, healed.rows_rejected) == (3, 0, 0)
    assert not any(t.rebased for t in healed.tickers if t.ticker != "XOM")
    again = ingest_prices(settings, source="csv", csv_path=csv_dir, full_refresh=True)
    assert again.rows_updated == 0


def test_bad_input_catalogue(settings: Settings, csv_dir: Path) -> None:
    catalogue = write_catalogue(csv_dir)
    named = [case for case in catalogue if case.status != "ignored"]
    tickers = TICKERS + [case.ticker for case in named]
    result = ingest_prices(settings, source="csv", csv_path=csv_dir, tickers=tickers)
    outcomes = {t.ticker: t for t in result.tickers}
    assert result.status == "partial"
    ignored = [case for case in catalogue if case.status == "ignored"]
    assert len(result.notes) == len(ignored)  # LICENSE and README.md: skipped without a word
    for case in ignored:
        assert any(note.startswith(case.rule) for note in result.notes), (case.rule, result.notes)

    url = settings.database.url
    assert url is not None
    with connect(url) as conn:
        stored = count_prices(conn)
        prices = load_prices(conn)
        run = get_run(conn, result.run_id)
    for case in named:
        outcome = outcomes[case.ticker]
        assert outcome.status == case.status, (case.ticker, outcome.messages)
        assert stored.get(case.ticker, 0) == case.stored_rows, case.ticker
        assert stored_rows_of(prices, case.ticker) == case.stored_lines(), case.ticker
        if case.rule:
            where = f"{case.ticker} row {case.line}: " if case.line else f"{case.ticker}: "
            assert any(m.startswith(where) and case.rule in m for m in outcome.messages), (
                case.ticker,
                outcome.messages,
            )
    assert set(stored) == set(TICKERS) | {case.ticker for case in named if case.stored_rows}
    for ticker in TICKERS:  # every good ticker stored in full despite its bad neighbours
        assert outcomes[ticker].status == "stored"
        assert stored[ticker] == outcomes[ticker].rows_new > 0

    assert run is not None
    assert run["status"] == "partial"
    bad = [c.ticker for c in named if c.status in ("rejected", "failed")]
    assert run["tickers_failed"] == len(bad)
    assert {e["ticker"] for e in run["errors"]} >= set(bad)
    assert run["rows_new"] == result.rows_new == sum(stored.values())
    assert run["finished_at"] is not None
    assert outcomes["DESCENDING"].rows_new == ROWS


def test_synthetic_market_and_run_record(settings: Settings) -> None:
    market = settings.with_overrides(
        {
            "data": {
                "source": "synthetic",
                "synthetic": {"n_tickers": 4, "start": date(2016, 1, 4), "end": date(2016, 12, 30)},
            }
        }
    )
    result = ingest_prices(market)
    sessions = len(trading_calendar().sessions_between(date(2016, 1, 4), date(2016, 12, 30)))
    assert result.rows_new == 4 * sessions
    assert [t.ticker for t in result.tickers] == ["SYN000", "SYN001", "SYN002", "SYN003"]
    with connect(market.database.url or "") as conn:
        run = get_run(conn, result.run_id)
    assert run is not None
    assert (run["source"], run["status"], run["tickers_requested"]) == ("synthetic", "succeeded", 4)
    assert run["rows_new"] == result.rows_new


def test_source_crash_of_one_ticker_spares_the_others(settings: Settings, csv_dir: Path) -> None:
    (csv_dir / "BROKEN.csv").write_bytes(b"\xff\xfe\x00garbage\x00\n\x00")
    result = ingest_prices(
        settings, source="csv", csv_path=csv_dir, tickers=["AAPL", "BROKEN", "XOM"]
    )
    outcomes = {t.ticker: t for t in result.tickers}
    assert outcomes["BROKEN"].status in ("failed", "rejected")
    assert outcomes["BROKEN"].messages
    assert outcomes["AAPL"].status == outcomes["XOM"].status == "stored"


def test_a_ticker_the_database_refuses_is_isolated_from_its_batch(
    settings: Settings, csv_dir: Path
) -> None:
    url = settings.database.url
    assert url is not None
    with connect(url) as conn:
        apply_migrations(conn)
        conn.execute("ALTER TABLE raw_prices ADD CONSTRAINT no_xom CHECK (ticker <> 'XOM')")
    result = ingest_prices(settings, source="csv", csv_path=csv_dir)  # one batch of five tickers
    outcomes = {t.ticker: t for t in result.tickers}
    assert outcomes["XOM"].status == "failed"
    assert "[database]" in outcomes["XOM"].messages[-1]
    assert "no_xom" in outcomes["XOM"].messages[-1]
    with connect(url) as conn:
        stored = count_prices(conn)
    assert set(stored) == set(TICKERS) - {"XOM"}
    assert all(outcomes[t].status == "stored" for t in stored)
