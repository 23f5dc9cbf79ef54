"""Any interleaving of incremental ingests with splits and dividends ends with the stored prices,
adjusted closes, split factors and actions of one full ingest (Hypothesis draws the actions,
the ingest days and whether the source serves prices as traded or adjusted-only)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickcast.config import Settings
from tickcast.data.calendar import trading_calendar
from tickcast.data.ingest import ingest_prices
from tickcast.db.actions import load_actions
from tickcast.db.connection import connect, database_url
from tickcast.db.migrate import apply_migrations
from tickcast.db.prices import load_prices

CAL = trading_calendar()
SESSIONS = CAL.sessions_between(date(2021, 1, 4), date(2021, 4, 30))
COLUMNS = ["ticker", "trade_date", "open", "close", "adj_close", "volume", "split_factor"]

splits = st.lists(
    st.tuples(
        st.sampled_from(["SYN000", "SYN001"]),
        st.integers(1, len(SESSIONS) - 1),
        st.sampled_from([2.0, 1.5, 3.0, 7.0, 0.1, 0.5]),
    ),
    max_size=3,
    unique_by=lambda split: (split[0], split[1]),
)
ingest_days = st.lists(st.integers(0, len(SESSIONS) - 2), max_size=5, unique=True).map(sorted)


def market(
    base: Settings, url: str, drawn: list[tuple[str, int, float]], prices: str, yield_: float
) -> Settings:
    synthetic = {
        "n_tickers": 2,
        "start": SESSIONS[0],
        "end": SESSIONS[-1],
        "splits": [
            {"ticker": ticker, "date": SESSIONS[at], "ratio": ratio} for ticker, at, ratio in drawn
        ],
        "dividend_yield": yield_,
        "prices": prices,
    }
    return base.with_overrides(
        {"database": {"url": url}, "data": {"source": "synthetic", "synthetic": synthetic}}
    )


def emptied(url: str) -> None:
    with connect(url) as conn:
        apply_migrations(conn)
        conn.execute("TRUNCATE raw_prices, corporate_actions, price_revisions, ingest_runs CASCADE")


def stored(url: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    with connect(url) as conn:
        return load_prices(conn)[COLUMNS], load_actions(conn, None)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=splits,
    days=ingest_days,
    prices=st.sampled_from(["as_traded", "adjusted"]),
    yield_=st.sampled_from([0.0, 0.04]),
)
def test_any_interleaving_ends_as_one_full_ingest(
    settings: Settings,
    second_database_url: str,
    drawn: list[tuple[str, int, float]],
    days: list[int],
    prices: str,
    yield_: float,
) -> None:
    daily = market(settings, database_url(settings), drawn, prices, yield_)
    once = market(settings, second_database_url, drawn, prices, yield_)
    for url in (database_url(daily), second_database_url):
        emptied(url)
    for day in [*days, len(SESSIONS) - 1]:
        assert ingest_prices(daily, end=SESSIONS[day]).status == "succeeded"
    assert ingest_prices(once, end=SESSIONS[-1]).status == "succeeded"

    (prices_daily, actions_daily) = stored(database_url(daily))
    (prices_once, actions_once) = stored(second_database_url)
    pd.testing.assert_frame_equal(prices_daily, prices_once, rtol=1e-12)
    pd.testing.assert_frame_equal(actions_daily, actions_once)
