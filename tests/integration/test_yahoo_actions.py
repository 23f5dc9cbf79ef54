"""The yfinance path on recorded responses (no network): Yahoo re-writes AAPL's history on its 7:1
split of 2014-06-09, reporting the split and the dividends only inside each asked range. The
incremental ingest finds the re-written sessions, re-reads the ticker whole with its whole action
history, and keeps one basis; a later incremental run stores the actions of its range."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tests.conftest import STOCKNET_DIR
from tests.fakes.yahoo import FakeYahoo
from tickcast.config import Settings
from tickcast.data.calendar import trading_calendar
from tickcast.data.ingest import ingest_prices
from tickcast.data.sources.yahoo import YFinanceSource
from tickcast.db.actions import load_actions
from tickcast.db.connection import connect, database_url
from tickcast.db.prices import load_prices

CAL = trading_calendar()
BEFORE, SPLIT, LATER = date(2014, 6, 6), date(2014, 6, 9), date(2014, 6, 13)
# AAPL's dividends as Yahoo reports them today (split-adjusted) and its 7:1 split.
ACTIONS = pd.DataFrame(
    [
        ("2014-02-06", "dividend", 0.435714),
        ("2014-05-08", "dividend", 0.47),
        ("2014-06-09", "split", 7.0),
        ("2014-08-07", "dividend", 0.47),
    ],
    columns=["Date", "kind", "value"],
)


def served_before_the_split(history: pd.DataFrame) -> pd.DataFrame:
    """The history as Yahoo served it on BEFORE: every price on the pre-split basis."""
    old = history[pd.to_datetime(history["Date"]).dt.date <= BEFORE].copy()
    old[["Open", "High", "Low", "Close", "Adj Close"]] *= 7
    old["Volume"] = (old["Volume"] / 7).round()
    return old


def yahoo_source(settings: Settings, fake: FakeYahoo) -> YFinanceSource:
    options = settings.data.yfinance.model_copy(
        update={"history_start": date(2013, 1, 2), "pause_between_tickers_seconds": 0.0}
    )
    return YFinanceSource(options, CAL, ["AAPL"], session=fake.session())


def test_a_split_yahoo_re_wrote_is_healed_with_its_actions(settings: Settings) -> None:
    history = pd.read_csv(STOCKNET_DIR / "AAPL.csv")
    old_actions = ACTIONS[pd.to_datetime(ACTIONS["Date"]).dt.date <= BEFORE].copy()
    old_actions.loc[old_actions["kind"] == "dividend", "value"] *= 7  # pre-split cash amounts
    fake = FakeYahoo({"AAPL": served_before_the_split(history)}, {"AAPL": old_actions})
    settings = settings.model_copy(update={"tickers": ["AAPL"]})

    first = ingest_prices(settings, source=yahoo_source(settings, fake), end=BEFORE)
    assert first.status == "succeeded", first.tickers[0].messages
    with connect(database_url(settings)) as conn:
        stored = load_actions(conn, ["AAPL"])
    assert stored["kind"].tolist() == ["dividend", "dividend"]  # the whole history's
    assert stored["value"].tolist() == pytest.approx([3.049998, 3.29])

    fake.prices["AAPL"], fake.actions["AAPL"] = history, ACTIONS
    healed = ingest_prices(settings, source=yahoo_source(settings, fake), end=LATER)
    [outcome] = healed.tickers
    assert outcome.rebased and outcome.rebase_ratio is not None
    assert abs(outcome.rebase_ratio - 1 / 7) < 1e-6, outcome.messages
    with connect(database_url(settings)) as conn:
        prices = load_prices(conn, ["AAPL"]).set_index("trade_date")
        actions = load_actions(conn, ["AAPL"])
        revisions = conn.execute("SELECT count(*) FROM price_revisions").fetchone()
    returns = pd.Series(np.log(prices["adj_close"] / prices["adj_close"].shift(1)))
    assert returns[SPLIT] > -0.5  # log(1/7) = -1.95 had the new rows joined the old ones
    assert float(returns.abs().max()) < 0.2  # AAPL fell 12 % on 2013-01-24, for real
    assert revisions == (1,)
    # The heal read the whole action history (one more request): the split, the dividends on
    # the new basis, and nothing after LATER.
    assert list(zip(actions["ex_date"].dt.date, actions["kind"], strict=True)) == [
        (date(2014, 2, 6), "dividend"),
        (date(2014, 5, 8), "dividend"),
        (SPLIT, "split"),
    ]
    assert actions["value"].tolist() == [0.435714, 0.47, 7.0]

    # The next incremental run stores the dividend inside its range, with no re-read.
    later = ingest_prices(settings, source=yahoo_source(settings, fake), end=date(2014, 8, 15))
    assert not later.tickers[0].rebased
    with connect(database_url(settings)) as conn:
        actions = load_actions(conn, ["AAPL"])
    assert actions["ex_date"].dt.date.tolist()[-1] == date(2014, 8, 7)
