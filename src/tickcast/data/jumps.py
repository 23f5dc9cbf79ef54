"""Unexplained jumps: a stored adjusted return beyond `validation.outlier_log_return` that no
stored split or dividend explains (one on that session) and nobody accepted (`tickcast prices
accept TICKER DATE`) quarantines its ticker from training and forecasting until the data are
healed or the jump accepted. The others go on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from tickcast.config import Settings
from tickcast.db.actions import accept_jump, accepted_jumps, load_actions, stored_return
from tickcast.db.connection import Connection, open_connection
from tickcast.db.migrate import apply_migrations
from tickcast.tickers import ticker_symbol


@dataclass(frozen=True)
class Jump:
    ticker: str
    trade_date: date
    log_return: float


@dataclass(frozen=True)
class Quarantine:
    """A ticker's unexplained jumps, oldest first."""

    ticker: str
    jumps: list[Jump]

    @property
    def reason(self) -> str:
        first = self.jumps[0]
        more = f" and {len(self.jumps) - 1} more" if len(self.jumps) > 1 else ""
        return (
            f"quarantined: an unexplained move of {first.log_return:+.2f} in log on "
            f"{first.trade_date}{more} (no stored split or dividend that day); heal the data, "
            f"or `tickcast prices accept {self.ticker} {first.trade_date}` if it is real"
        )


def unexplained_jumps(
    prices: pd.DataFrame,
    explained: set[tuple[str, date]],
    threshold: float,
) -> dict[str, Quarantine]:
    """Per ticker, its stored returns (prices: ticker, trade_date, adj_close, ordered by ticker
    and date) beyond `threshold` in absolute log, except on the (ticker, session)s in
    `explained` (an action or an acceptance)."""
    if len(prices) < 2:
        return {}
    tickers = prices["ticker"].to_numpy()
    closes = prices["adj_close"].to_numpy(dtype=float)
    returns = np.log(closes[1:] / closes[:-1])
    big = np.flatnonzero((tickers[1:] == tickers[:-1]) & (np.abs(returns) > threshold))
    days = prices["trade_date"].to_numpy()
    found: dict[str, list[Jump]] = {}
    for i in big:  # few: a loop reads clearer than a join
        ticker, day = str(tickers[i + 1]), pd.Timestamp(days[i + 1]).date()
        if (ticker, day) not in explained:
            found.setdefault(ticker, []).append(Jump(ticker, day, float(returns[i])))
    return {ticker: Quarantine(ticker, jumps) for ticker, jumps in found.items()}


def quarantined_tickers(
    conn: Connection, prices: pd.DataFrame, threshold: float
) -> dict[str, Quarantine]:
    """The tickers of `prices` that an unexplained jump quarantines (stored actions and
    acceptances explain the others)."""
    tickers = sorted(prices["ticker"].unique().tolist()) if len(prices) else []
    if not tickers:
        return {}
    actions = load_actions(conn, tickers)
    explained = set(
        zip(actions["ticker"], (d.date() for d in actions["ex_date"]), strict=True)
    ) | accepted_jumps(conn, tickers)
    return unexplained_jumps(prices, explained, threshold)


class AcceptError(ValueError):
    """A jump that cannot be accepted (no stored price that session)."""


@dataclass(frozen=True)
class Acceptance:
    ticker: str
    trade_date: date
    log_return: float | None  # the stored return that session (None: the ticker's first)
    new: bool  # False: accepted before


def accept(settings: Settings, ticker: str, day: date, note: str) -> Acceptance:
    """Record that `ticker`'s stored move on `day` is real: a jump there quarantines no more."""
    try:
        ticker = ticker_symbol(ticker.strip())
    except ValueError as error:
        raise AcceptError(str(error)) from None
    with open_connection(settings) as conn:
        apply_migrations(conn)
        found = stored_return(conn, ticker, day)
        if found is None:
            raise AcceptError(f"{ticker} has no stored price on {day}: nothing to accept")
        return Acceptance(ticker, day, found[0], accept_jump(conn, ticker, day, note))
