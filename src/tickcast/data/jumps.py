"""Unexplained rows: a stored adjusted return beyond `validation.outlier_log_return`, or an
adjusted close further than `validation.plausible_log_band` (in log) from the median of its
ticker's previous `validation.band_sessions` closes, that no stored split or dividend explains
(one on that session) and nobody accepted (`tickcast prices accept TICKER DATE`), quarantines
its ticker from that session on: its prices from there are left out of training and forecasting
(so it moves no other ticker's cross-section) until the data are healed or the row accepted. An
acceptance also restarts the band: the sessions after it are judged against the new level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from tickcast.config import Settings, ValidationSettings
from tickcast.data.calendar import configured_calendar
from tickcast.db.actions import accept_jump, accepted_jumps, load_actions, stored_return
from tickcast.db.connection import Connection, open_connection
from tickcast.db.migrate import ensure_schema
from tickcast.db.prices import load_prices
from tickcast.tickers import ticker_symbol

# A finding's days as integers below this per ticker code (days since 1970 stay under it).
_DAYS_PER_TICKER = 1_000_000


@dataclass(frozen=True)
class Jump:
    """A stored one-session move beyond the outlier threshold."""

    ticker: str
    trade_date: date
    log_return: float

    def describe(self) -> str:
        return f"an unexplained move of {self.log_return:+.2f} in log on {self.trade_date}"


@dataclass(frozen=True)
class OutOfBand:
    """A stored adjusted close far from its ticker's recent level."""

    ticker: str
    trade_date: date
    adj_close: float
    median: float  # of the previous `sessions` adjusted closes
    sessions: int

    @property
    def log_distance(self) -> float:
        return float(np.log(self.adj_close / self.median))

    def describe(self) -> str:
        return (
            f"an adjusted close of {self.adj_close:.6g} on {self.trade_date}, "
            f"{self.log_distance:+.2f} in log from the median {self.median:.6g} of its previous "
            f"{self.sessions} sessions"
        )


Finding = Jump | OutOfBand


@dataclass(frozen=True)
class Quarantine:
    """A ticker's unexplained rows, oldest first: its prices from the first are left out."""

    ticker: str
    findings: list[Finding]

    @property
    def since(self) -> date:
        return self.findings[0].trade_date

    @property
    def reason(self) -> str:
        more = len(self.findings) - 1
        return (
            f"quarantined from {self.since}: {self.findings[0].describe()}"
            f"{f' and {more} more' if more else ''} (no stored split or dividend that day); "
            f"heal the data, or `tickcast prices accept {self.ticker} {self.since}` if it is real"
        )


def unexplained_rows(
    prices: pd.DataFrame, explained: set[tuple[str, date]], rules: ValidationSettings
) -> dict[str, Quarantine]:
    """Per ticker, its stored rows (prices: ticker, trade_date, adj_close, ordered by ticker
    and date) that move beyond `rules.outlier_log_return` from the previous one or lie beyond
    `rules.plausible_log_band` from the median of the previous `rules.band_sessions`, except on
    the (ticker, session)s in `explained` (an action or an acceptance), where the band restarts."""
    if prices.empty:
        return {}
    tickers = prices["ticker"].to_numpy()
    codes, names = pd.factorize(prices["ticker"])
    days = pd.to_datetime(prices["trade_date"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    logs = np.log(prices["adj_close"].to_numpy(dtype=float))
    keys = codes.astype(np.int64) * _DAYS_PER_TICKER + days
    starts = np.ones(len(prices), dtype=bool)
    starts[1:] = codes[1:] != codes[:-1]
    code_of = {str(name): code for code, name in enumerate(names)}
    known = [(code_of[t], d) for t, d in explained if t in code_of]
    if known:
        explained_days = pd.to_datetime([d for _, d in known]).to_numpy().astype("datetime64[D]")
        explained_keys = np.asarray([c for c, _ in known], np.int64) * _DAYS_PER_TICKER
        starts |= np.isin(keys, explained_keys + explained_days.astype(np.int64))
    returns = np.empty(len(prices))
    returns[0], returns[1:] = np.nan, logs[1:] - logs[:-1]
    jumped = ~starts & (np.abs(returns) > rules.outlier_log_return)
    median = np.full(len(prices), np.nan)
    outside = np.zeros(len(prices), dtype=bool)
    window = rules.band_sessions
    if rules.plausible_log_band is not None and len(prices) > window:
        median[1:] = pd.Series(logs).rolling(window).median().to_numpy()[:-1]
        segment_start = np.maximum.accumulate(np.where(starts, np.arange(len(prices)), 0))
        judged = np.arange(len(prices)) - segment_start >= window
        outside = judged & (np.abs(logs - median) > rules.plausible_log_band)
    findings: dict[str, list[Finding]] = {}
    for i in np.flatnonzero(jumped | outside):  # few: a loop reads clearer than a join
        ticker, day = str(tickers[i]), pd.Timestamp(int(days[i]), unit="D").date()
        if outside[i]:  # the row itself is implausible: the more telling finding
            findings.setdefault(ticker, []).append(
                OutOfBand(ticker, day, float(np.exp(logs[i])), float(np.exp(median[i])), window)
            )
        else:
            findings.setdefault(ticker, []).append(Jump(ticker, day, float(returns[i])))
    return {ticker: Quarantine(ticker, rows) for ticker, rows in findings.items()}


def quarantined_tickers(
    conn: Connection, prices: pd.DataFrame, rules: ValidationSettings
) -> dict[str, Quarantine]:
    """The tickers of `prices` that an unexplained row quarantines (stored actions and
    acceptances explain the others)."""
    tickers = sorted(prices["ticker"].unique().tolist()) if len(prices) else []
    if not tickers:
        return {}
    actions = load_actions(conn, tickers)
    explained = set(
        zip(actions["ticker"], (d.date() for d in actions["ex_date"]), strict=True)
    ) | accepted_jumps(conn, tickers)
    return unexplained_rows(prices, explained, rules)


def recent_quarantines(conn: Connection, settings: Settings, as_of: date) -> dict[str, Quarantine]:
    """The quarantines found in the stored prices of the `validation.lookback_sessions` sessions
    up to `as_of` (read with the band's sessions before them)."""
    rules = settings.validation
    calendar = configured_calendar(settings)
    start = calendar.sessions_ending(
        calendar.session_on_or_before(as_of), rules.lookback_sessions + rules.band_sessions + 1
    )[0]
    prices = load_prices(conn, settings.tickers or None, end=as_of, start=start)
    return quarantined_tickers(conn, prices, rules)


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
        ensure_schema(conn)
        found = stored_return(conn, ticker, day)
        if found is None:
            raise AcceptError(f"{ticker} has no stored price on {day}: nothing to accept")
        return Acceptance(ticker, day, found[0], accept_jump(conn, ticker, day, note))
