"""The real yfinance client against a fake HTTP layer (Yahoo cannot be reached from CI).

yfinance caches responses for past date ranges process-wide, so each test asks a distinct range.
"""

from datetime import date

import pandas as pd
import pytest

from tests.conftest import STOCKNET_DIR
from tests.fakes.yahoo import FakeYahoo
from tickcast.config import YFinanceSourceSettings
from tickcast.data.calendar import trading_calendar
from tickcast.data.sources import SourceError
from tickcast.data.sources.yahoo import YFinanceSource
from tickcast.data.validation import validate_prices

CAL = trading_calendar()


@pytest.fixture
def yahoo(stocknet_dir: object) -> FakeYahoo:
    frames = {t: pd.read_csv(STOCKNET_DIR / f"{t}.csv") for t in ("AAPL", "MSFT")}
    return FakeYahoo(frames)


def make_source(fake: FakeYahoo, sleeps: list[float], **options: object) -> YFinanceSource:
    settings = YFinanceSourceSettings.model_validate(
        {
            "history_start": date(2012, 1, 1),
            "backoff_seconds": 1.0,
            "rate_limit_pause_seconds": 30.0,
            "pause_between_tickers_seconds": 0.0,
            **options,
        }
    )
    return YFinanceSource(
        settings, CAL, ["AAPL", "MSFT"], session=fake.session(), sleep=sleeps.append
    )


def test_full_history_matches_the_served_rows(yahoo: FakeYahoo) -> None:
    frame = make_source(yahoo, []).fetch("AAPL", None, date(2017, 9, 1))
    served = yahoo.prices["AAPL"]
    assert len(frame) == len(served)
    assert frame["trade_date"].iloc[0] == pd.Timestamp("2012-09-04")
    assert frame["close"].round(6).tolist() == served["Close"].round(6).tolist()
    assert frame["adj_close"].round(6).tolist() == served["Adj Close"].round(6).tolist()
    checked = validate_prices("AAPL", frame, CAL, date(2026, 1, 1))
    assert not checked.rejected


def test_incremental_request_starts_the_session_after_the_last_stored_date(
    yahoo: FakeYahoo,
) -> None:
    frame = make_source(yahoo, []).fetch("MSFT", date(2017, 8, 25), date(2017, 9, 1))
    assert frame["trade_date"].dt.date.tolist() == CAL.sessions_between(
        date(2017, 8, 28), date(2017, 9, 1)
    )
    request = yahoo.chart_requests[-1]
    first = pd.Timestamp(int(request["period1"]), unit="s", tz="UTC").tz_convert("America/New_York")
    assert first.date() == date(2017, 8, 28)  # Monday after Friday 25th, no calendar-day guess


def test_up_to_date_ticker_makes_no_request(yahoo: FakeYahoo) -> None:
    frame = make_source(yahoo, []).fetch("AAPL", date(2017, 9, 1), date(2017, 9, 1))
    assert frame.empty
    assert yahoo.chart_requests == []


def test_transient_failures_are_retried_with_backoff(yahoo: FakeYahoo) -> None:
    sleeps: list[float] = []
    source = make_source(yahoo, sleeps)
    source.fetch("AAPL", date(2017, 8, 1), date(2017, 9, 1))  # learn the time zone first
    yahoo.failures.extend(["drop", "drop"])
    frame = source.fetch("AAPL", date(2017, 8, 25), date(2017, 9, 1))
    assert len(frame) == 5
    assert sleeps == [1.0, 2.0]  # backoff doubles


def test_rate_limit_pauses_then_succeeds(yahoo: FakeYahoo) -> None:
    sleeps: list[float] = []
    source = make_source(yahoo, sleeps)
    source.fetch("AAPL", date(2017, 8, 1), date(2017, 9, 1))
    yahoo.failures.extend([429, 429])  # yfinance retries once itself, then raises YFRateLimitError
    frame = source.fetch("AAPL", date(2017, 8, 24), date(2017, 9, 1))
    assert len(frame) == 6
    assert sleeps == [30.0]


def test_gives_up_after_the_configured_retries(yahoo: FakeYahoo) -> None:
    sleeps: list[float] = []
    source = make_source(yahoo, sleeps, retries=2)
    source.fetch("AAPL", date(2017, 8, 1), date(2017, 9, 1))
    yahoo.failures.extend(["drop"] * 3)
    with pytest.raises(SourceError, match="failed 3 times: ConnectionError"):
        source.fetch("AAPL", date(2017, 8, 23), date(2017, 9, 1))
    assert sleeps == [1.0, 2.0]


def test_unknown_ticker_is_reported_without_retrying(yahoo: FakeYahoo) -> None:
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="unknown ticker NOPE"):
        make_source(yahoo, sleeps).fetch("NOPE", None, None)
    assert sleeps == []
