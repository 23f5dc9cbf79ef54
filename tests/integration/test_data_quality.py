"""The stored-data check of the daily run, on stocknet rows damaged on purpose."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import copy_stocknet
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.data.quality import DataQualityError, check_stored_prices, require_healthy
from tickcast.db.actions import accept_jump
from tickcast.db.connection import connect, database_url
from tickcast.db.migrate import init_database

AS_OF = date(2017, 6, 30)
TICKERS = ["AAPL", "GE", "JPM", "XOM", "MSFT"]


def _edit(csv: Path, ticker: str, change: str) -> None:
    path = csv / f"{ticker}.csv"
    rows = pd.read_csv(path)
    if change == "stale":  # the feed stopped three sessions early
        rows = rows[rows["Date"] <= "2017-06-27"]
    elif change == "gaps":  # three sessions lost in the middle of June
        rows = rows[~rows["Date"].isin(["2017-06-12", "2017-06-13", "2017-06-14"])]
    elif change == "outlier":  # one session's prices tripled: +1.10 then -1.10
        prices = ["Open", "High", "Low", "Close", "Adj Close"]
        rows.loc[rows["Date"] == "2017-06-15", prices] *= 3
    rows.to_csv(path, index=False)


@pytest.fixture
def damaged(settings: Settings, tmp_path: Path) -> Settings:
    csv = copy_stocknet(TICKERS, tmp_path / "csv")
    for ticker, change in {"GE": "stale", "JPM": "gaps", "XOM": "outlier"}.items():
        _edit(csv, ticker, change)
    configured = settings.with_overrides(
        {"tickers": [*TICKERS, "NOPE"], "validation": {"lookback_sessions": 20}}
    )
    ingest_prices(configured.with_overrides({"tickers": TICKERS}), csv_path=csv, end=AS_OF)
    return configured


def test_findings_per_ticker_and_the_verdict(damaged: Settings) -> None:
    report = check_stored_prices(damaged, AS_OF)
    by_ticker = {t.ticker: t for t in report.tickers}
    assert report.window_start == date(2017, 6, 5)  # 20 sessions up to the 30th
    assert report.healthy == ["AAPL", "MSFT"]
    assert by_ticker["GE"].sessions_behind == 3 and by_ticker["GE"].last_date == date(2017, 6, 27)
    assert by_ticker["JPM"].missing_sessions == [date(2017, 6, d) for d in (12, 13, 14)]
    assert list(by_ticker["XOM"].outliers) == [date(2017, 6, 15), date(2017, 6, 16)]
    assert by_ticker["XOM"].outliers[date(2017, 6, 15)] == pytest.approx(1.099, abs=0.02)
    assert by_ticker["NOPE"].reasons == ["no stored prices in the last 20 sessions"]
    assert report.counts() == {
        "tickers": 6,
        "healthy": 2,
        "quarantined": 4,
        "stale": 2,  # GE and the never-stored NOPE
        "missing_sessions": 3,
        "outliers": 2,
    }
    markdown = report.markdown()
    assert markdown.startswith("# Stored data as of 2017-06-30: FAILED")
    stale = "stale: last session 2017-06-27, 3 session(s) behind"
    assert f"| GE | quarantined | 2017-06-27 | {stale} |" in markdown
    assert "| XOM | quarantined |" in markdown and "2017-06-15 +1.10, 2017-06-16 -1.08" in markdown
    assert "`tickcast prices accept XOM 2017-06-15` if it is real" in markdown
    with pytest.raises(DataQualityError, match=r"only 2 of 6 tickers are healthy .*GE: stale"):
        require_healthy(report)


def test_tolerances_are_configurable(damaged: Settings) -> None:
    lenient = damaged.with_overrides(
        {
            "tickers": ["AAPL", "GE", "JPM", "XOM"],
            "validation": {"max_stale_sessions": 3, "max_missing_sessions": 3},
        }
    )
    report = check_stored_prices(lenient, AS_OF)
    assert report.healthy == ["AAPL", "GE", "JPM"]  # XOM's jumps are not accepted
    with connect(database_url(lenient)) as conn:
        for day in (date(2017, 6, 15), date(2017, 6, 16)):
            assert accept_jump(conn, "XOM", day, "checked by hand")
        assert not accept_jump(conn, "XOM", day, "again")
    report = check_stored_prices(lenient, AS_OF)
    assert report.passed and report.healthy == ["AAPL", "GE", "JPM", "XOM"]
    require_healthy(report)
    assert "3 missing session(s): 2017-06-12, 2017-06-13, 2017-06-14" in report.markdown()


def test_an_empty_store_fails_clearly(settings: Settings) -> None:
    init_database(settings)
    report = check_stored_prices(settings, AS_OF)
    assert report.tickers == [] and not report.passed
    with pytest.raises(DataQualityError, match="no stored prices to check as of 2017-06-30"):
        require_healthy(report)
