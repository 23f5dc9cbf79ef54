"""Splits and dividends on the synthetic source (2:1, 3:2, 7:1, a 1:10 reverse split, a quarterly
dividend), ingested day by day across them: the stored adjusted history keeps one basis, both
when tickcast adjusts as-traded prices and when the source re-writes its adjusted history, and
the result equals one ingest of the whole history; a forecast made before a split is scored on
the day's real move."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tickcast.config import Settings
from tickcast.data.calendar import trading_calendar
from tickcast.data.ingest import ingest_prices
from tickcast.db.actions import load_actions
from tickcast.db.connection import connect, database_url
from tickcast.db.forecasts import score_predictions, upsert_predictions
from tickcast.db.prices import load_prices

CAL = trading_calendar()
START, FIRST_INGEST, LAST = date(2020, 1, 2), date(2020, 2, 27), date(2020, 4, 20)
SPLITS: list[dict[str, Any]] = [
    {"ticker": "SYN000", "date": "2020-03-02", "ratio": 2.0},
    {"ticker": "SYN001", "date": "2020-03-16", "ratio": 1.5},
    {"ticker": "SYN002", "date": "2020-04-01", "ratio": 7.0},
    {"ticker": "SYN003", "date": "2020-04-15", "ratio": 0.1},
]


def with_actions(settings: Settings, prices: str = "as_traded", url: str | None = None) -> Settings:
    synthetic = {
        "n_tickers": 4,
        "start": START,
        "end": LAST,
        "splits": SPLITS,
        "dividend_yield": 0.04,
        "prices": prices,
    }
    database = {**settings.database.model_dump(), **({"url": url} if url else {})}
    return Settings.model_validate(
        {
            **settings.model_dump(exclude={"data", "database"}),
            "database": database,
            "data": {"source": "synthetic", "synthetic": synthetic},
        }
    )


def replay(settings: Settings) -> list[str]:
    """Ingest up to FIRST_INGEST, then every session to LAST; the messages of each run."""
    messages: list[str] = []
    for day in [FIRST_INGEST, *CAL.sessions_between(CAL.next_session(FIRST_INGEST), LAST)]:
        result = ingest_prices(settings, end=day)
        assert result.status == "succeeded", [t.messages for t in result.tickers]
        messages += [m for t in result.tickers for m in t.messages]
    return messages


def stored(settings: Settings) -> pd.DataFrame:
    with connect(database_url(settings)) as conn:
        return load_prices(conn)


def log_returns(prices: pd.DataFrame) -> pd.Series:
    closes = prices.set_index(["ticker", "trade_date"])["adj_close"]
    returns: pd.Series = np.log(closes).groupby(level="ticker").diff().dropna()
    return returns


def without_actions(settings: Settings, url: str) -> pd.DataFrame:
    """The same market with no action at all, ingested whole: the returns every basis must keep."""
    plain = with_actions(settings, url=url)
    plain = plain.model_copy(
        update={
            "data": plain.data.model_copy(
                update={
                    "synthetic": plain.data.synthetic.model_copy(
                        update={"splits": [], "dividend_yield": 0.0}
                    )
                }
            )
        }
    )
    ingest_prices(plain, end=LAST)
    return stored(plain)


def test_daily_ingests_across_splits_and_dividends_keep_one_basis(
    settings: Settings, second_database_url: str
) -> None:
    traded = with_actions(settings)
    messages = replay(traded)
    prices = stored(traded)

    # Not one split or dividend shows as a return: every stored adjusted return is the market's
    # (as-traded closes are rounded to 4 decimals, hence the tolerance).
    market = without_actions(settings, second_database_url)
    truth = log_returns(market)
    returns = log_returns(prices)
    assert returns.index.equals(truth.index)
    assert float((returns - truth).abs().max()) < 1e-4
    as_traded = prices.set_index(["ticker", "trade_date"])["close"]
    assert float(np.log(as_traded).groupby(level="ticker").diff().abs().max()) > 1.9  # the 7:1

    # Each split re-adjusted its ticker's stored history once, on the day it was ingested.
    adjusted = [m for m in messages if "[adjusted]" in m]
    for split in SPLITS:
        assert sum(str(split["ticker"]) in m and "split" in m for m in adjusted) >= 1, adjusted
    # Volume follows the splits: in today's shares (volume x split_factor) it is the market's
    # volume times the ticker's splits, on every day before and after them.
    shares = prices["volume"] * prices["split_factor"] / market["volume"]
    for split in SPLITS:
        mine = shares[prices["ticker"] == split["ticker"]]
        np.testing.assert_allclose(mine, float(split["ratio"]), rtol=1e-6)


def test_a_replay_equals_one_ingest_of_the_whole_history(
    settings: Settings, second_database_url: str
) -> None:
    daily = with_actions(settings)
    replay(daily)
    once = with_actions(settings, url=second_database_url)
    ingest_prices(once, end=LAST)
    columns = ["ticker", "trade_date", "close", "adj_close", "volume", "split_factor"]
    pd.testing.assert_frame_equal(stored(daily)[columns], stored(once)[columns], rtol=1e-12)
    with connect(database_url(daily)) as one, connect(database_url(once)) as other:
        pd.testing.assert_frame_equal(load_actions(one, None), load_actions(other, None))


def test_an_adjusted_only_source_is_healed_to_the_same_history(
    settings: Settings, second_database_url: str
) -> None:
    """The source re-writes its adjusted history on each action (as Yahoo does): each re-write is
    found by the overlap re-read, recorded once, and the stored adjusted closes end as tickcast's
    own adjustment of the as-traded prices."""
    rewritten = with_actions(settings, prices="adjusted")
    messages = replay(rewritten)
    rebased = [m for m in messages if "[rebased]" in m]
    with connect(database_url(rewritten)) as conn:
        actions = load_actions(conn, None)
        revisions = conn.execute("SELECT ticker, compared_to FROM price_revisions").fetchall()
    after_first = actions[actions["ex_date"] > pd.Timestamp(FIRST_INGEST)]
    assert len(revisions) == len(after_first) == len(rebased)  # one per action, no more
    traded = with_actions(settings, url=second_database_url)
    ingest_prices(traded, end=LAST)
    np.testing.assert_allclose(
        stored(rewritten)["adj_close"], stored(traded)["adj_close"], rtol=1e-12
    )


def test_a_forecast_made_before_a_split_is_scored_on_the_real_move(settings: Settings) -> None:
    traded = with_actions(settings)
    day_before, split_day = date(2020, 3, 31), date(2020, 4, 1)  # SYN002 splits 7:1
    ingest_prices(traded, end=day_before)
    with connect(database_url(traded)) as conn:
        last_close = float(
            load_prices(conn, ["SYN002"], end=day_before, start=day_before)["close"].iloc[0]
        )
        upsert_predictions(
            conn,
            [
                {
                    "target_date": split_day,
                    "ticker": "SYN002",
                    "model_name": "m",
                    "model_version": 1,
                    "run_id": "r",
                    "dataset_id": "d",
                    "predicted_log_return": 0.01,
                    "predicted_close": last_close * np.exp(0.01),
                    "last_close": last_close,
                    "last_close_date": day_before,
                    "quantile_levels": [0.1, 0.9],
                    "predicted_quantiles": [last_close * 0.97, last_close * 1.03],
                    "baseline_quantiles": [last_close * 0.96, last_close * 1.04],
                }
            ],
        )
    ingest_prices(traded, end=split_day)
    with connect(database_url(traded)) as conn:
        assert score_predictions(conn, "m", split_day) == 1
        row = conn.execute(
            "SELECT actual_close, last_close, predicted_close, actual_log_return, pct_error,"
            " predicted_quantiles FROM model_performance_log"
        ).fetchone()
    assert row is not None
    actual_close, rebased_last, predicted, actual_return, pct_error, quantiles = row
    assert abs(actual_return) < 0.1  # the split alone would be log(1/7) = -1.95
    assert rebased_last == pytest.approx(last_close / 7, rel=1e-3)
    assert predicted == pytest.approx(rebased_last * np.exp(0.01))
    assert pct_error < 10
    assert quantiles[0] == pytest.approx(rebased_last * 0.97)
    assert actual_close / rebased_last == pytest.approx(np.exp(actual_return))
