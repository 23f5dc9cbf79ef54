"""The ragged panel: every ticker on every exchange session of the date range, NaN where it has no
price (before its first session, after its last, in long gaps).

Nothing is dropped for starting late or stopping early: every ticker contributes its whole
history, and whether it can be forecast on a given session is decided later, per session.
Ragged-history policy (each decision is recorded with its reason):
- a ticker with fewer stored sessions than `min_sessions` is left out;
- inside a ticker's life a gap of up to `max_gap_sessions` missing sessions is forward-filled
  (prices carried, volume 0, marked in `filled`); a longer gap stays missing, and no window
  crosses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from tickcast.data.calendar import TradingCalendar
from tickcast.data.jumps import Quarantine
from tickcast.data.universe import Universe

PRICE_FIELDS = ["open", "high", "low", "close", "adj_close", "volume"]


class PanelError(ValueError):
    """The stored prices cannot form the requested panel."""


@dataclass(frozen=True)
class TickerDecision:
    ticker: str
    kept: bool
    reason: str
    first: date | None = None
    last: date | None = None
    sessions: int = 0
    filled: int = 0
    quarantined: bool = False  # its prices from the quarantine on are left out (`reason`)


@dataclass
class PricePanel:
    """Wide frames (dates x tickers) of aligned prices; OHLC adjusted by adj_close / close."""

    dates: pd.DatetimeIndex
    tickers: list[str]
    open: pd.DataFrame
    high: pd.DataFrame
    low: pd.DataFrame
    close: pd.DataFrame  # raw close: price = close x exp(predicted log return)
    adj_close: pd.DataFrame
    volume: pd.DataFrame
    filled: pd.DataFrame  # True where a missing session was forward-filled
    decisions: list[TickerDecision] = field(default_factory=list)

    @property
    def adjustment(self) -> pd.DataFrame:
        return self.adj_close / self.close

    def adjusted(self, name: str) -> pd.DataFrame:
        """open/high/low scaled like adj_close, so indicators see split- and dividend-free prices."""
        prices: pd.DataFrame = getattr(self, name)
        return prices * self.adjustment


def build_panel(
    prices: pd.DataFrame,
    calendar: TradingCalendar,
    *,
    min_sessions: int,
    max_gap_sessions: int,
    end: date | None = None,
    start: date | None = None,
    tickers: list[str] | None = None,
    quarantined: Mapping[str, Quarantine] | None = None,
    membership: Universe | None = None,
) -> PricePanel:
    """Align long-format prices (ticker, trade_date, open..volume, optionally split_factor) on
    the exchange sessions from `start` (default: the first stored price) to `end` (default: the
    last). Volume is split-adjusted (volume x split_factor), like adj_close. The prices of a
    ticker in `quarantined` from its quarantine on are left out (as if never stored: it takes no
    part in any session's cross-section from there); with a `membership`, each ticker's prices
    count only on the sessions it was a member (survivorship-free)."""
    if prices.empty:
        raise PanelError("no stored prices: run `tickcast ingest` first")
    prices = prices.assign(trade_date=pd.to_datetime(prices["trade_date"]))
    if quarantined:
        cut = prices["ticker"].map({t: pd.Timestamp(q.since) for t, q in quarantined.items()})
        prices = prices[~(prices["trade_date"] >= cut)]  # NaT (not quarantined) compares False
    if "split_factor" in prices:  # as-traded volume before a split, in today's shares
        prices = prices.assign(volume=(prices["volume"] * prices["split_factor"]).round())
    if end is not None:
        prices = prices[prices["trade_date"] <= pd.Timestamp(end)]
    if start is not None:
        prices = prices[prices["trade_date"] >= pd.Timestamp(start)]
    if membership is not None:
        prices = prices[membership.member_rows(prices)]
    if prices.empty:
        raise PanelError(f"no stored prices between {start or 'the start'} and {end or 'the end'}")
    stats = prices.groupby("ticker")["trade_date"].agg(["count", "min", "max"])
    stored = {
        str(ticker): _Stored(int(count), pd.Timestamp(first).date(), pd.Timestamp(last).date())
        for ticker, count, first, last in zip(
            stats.index, stats["count"], stats["min"], stats["max"], strict=True
        )
    }
    universe = tickers if tickers is not None else sorted(stored)
    sessions = pd.DatetimeIndex(
        calendar.sessions_between(
            prices["trade_date"].min().date(), prices["trade_date"].max().date()
        )
    )
    quarantine = {t: q.reason for t, q in (quarantined or {}).items()}
    decisions = _left_out(universe, stored, quarantine, min_sessions)
    kept = [ticker for ticker in universe if ticker not in decisions]
    if not kept:
        raise PanelError(
            "no ticker has enough history: "
            + "; ".join(f"{d.ticker}: {d.reason}" for d in decisions.values())
        )
    frames, filled = _align(prices, kept, sessions, max_gap_sessions)
    for ticker, count in zip(kept, filled.to_numpy().sum(axis=0), strict=True):
        reason = quarantine.get(ticker, "kept")  # a quarantined one: its sessions before
        decisions[ticker] = _decision(
            ticker, stored[ticker], True, reason, int(count), quarantined=ticker in quarantine
        )
    return PricePanel(
        dates=sessions,
        tickers=kept,
        **frames,
        filled=filled,
        decisions=[decisions[t] for t in universe],
    )


def _left_out(
    universe: list[str], stored: dict[str, _Stored], quarantine: dict[str, str], min_sessions: int
) -> dict[str, TickerDecision]:
    """The tickers of `universe` the panel leaves out, each with its reason: quarantined with
    too little left before the quarantine, never stored, or too short."""
    decisions: dict[str, TickerDecision] = {}
    for ticker in universe:
        found = stored.get(ticker)
        if ticker in quarantine and (found or _Stored()).sessions < min_sessions:
            decisions[ticker] = _decision(
                ticker, found, False, quarantine[ticker], quarantined=True
            )
        elif found is None:
            decisions[ticker] = TickerDecision(ticker, False, "no stored prices")
        elif found.sessions < min_sessions:
            decisions[ticker] = _decision(
                ticker,
                found,
                False,
                f"short history: {found.sessions} sessions < {min_sessions} (warm-up, one window "
                "and the horizon)",
            )
    return decisions


def _align(
    prices: pd.DataFrame, tickers: list[str], sessions: pd.DatetimeIndex, limit: int
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Each ticker on every session: filled across short gaps inside its life, NaN elsewhere."""
    column = pd.Index(tickers).get_indexer(pd.Index(prices["ticker"].astype(str)))
    row = sessions.get_indexer(pd.DatetimeIndex(prices["trade_date"]))
    placed = (column >= 0) & (row >= 0)
    column, row = column[placed], row[placed]
    shape = (len(sessions), len(tickers))
    values = {}
    for name in PRICE_FIELDS:
        grid = np.full(shape, np.nan)
        grid[row, column] = prices[name].to_numpy(dtype=np.float64)[placed]
        values[name] = grid
    present = np.isfinite(values["close"])  # a session with a stored close
    positions = np.arange(shape[0])[:, None]
    first = np.where(present, positions, shape[0]).min(axis=0)
    last = np.where(present, positions, -1).max(axis=0)
    alive = (positions >= first) & (positions <= last)
    gaps = ~present & alive
    short = np.zeros(shape, dtype=bool)
    if limit:
        for j in np.flatnonzero(gaps.any(axis=0)):
            short[:, j] = gaps[:, j] & (_run_lengths(gaps[:, j]) <= limit)
    if short.any():
        # the last stored session before each cell (a short gap's is at most `limit` back)
        previous = np.maximum.accumulate(np.where(present, positions, 0), axis=0)
        source_row, source_column = previous[short], np.nonzero(short)[1]
        for name in PRICE_FIELDS:
            values[name][short] = (
                0.0 if name == "volume" else values[name][source_row, source_column]
            )
    frames = {
        name: pd.DataFrame(grid, index=sessions, columns=tickers) for name, grid in values.items()
    }
    return frames, pd.DataFrame(short, index=sessions, columns=tickers)


def _run_lengths(flags: np.ndarray) -> np.ndarray:
    """For each True, the length of the run of Trues it belongs to (0 for False)."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    lengths = np.zeros(len(flags), dtype=np.int64)
    for begin, finish in zip(starts, ends, strict=True):
        lengths[begin:finish] = finish - begin
    return lengths


@dataclass(frozen=True)
class _Stored:
    """What is stored of one ticker in the panel's range."""

    sessions: int = 0
    first: date | None = None
    last: date | None = None


def _decision(
    ticker: str,
    stored: _Stored | None,
    kept: bool,
    reason: str,
    filled: int = 0,
    quarantined: bool = False,
) -> TickerDecision:
    found = stored or _Stored()
    return TickerDecision(
        ticker=ticker,
        kept=kept,
        reason=reason,
        first=found.first,
        last=found.last,
        sessions=found.sessions,
        filled=filled,
        quarantined=quarantined,
    )
