"""The aligned panel: every kept ticker on every exchange session of one date range.

Ragged-history policy (each decision is recorded with its reason):
- a ticker with fewer than `min_history_sessions` stored sessions is dropped;
- a ticker whose last price is more than `max_gap_sessions` sessions before the panel end is
  dropped as stale (halted or delisted);
- the panel starts at `start`, or else at the first session by which `start_coverage` of the
  remaining tickers have started; tickers starting later (late starters) are dropped;
- inside the range, a gap of up to `max_gap_sessions` missing sessions is forward-filled (prices
  carried, volume 0, marked in `filled`); a longer gap drops the ticker.
With a fixed ticker list (the prediction path) nothing is dropped: a ticker the policy would drop
is an error naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from tickcast.config import DatasetSettings
from tickcast.data.calendar import TradingCalendar

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
    policy: DatasetSettings,
    *,
    end: date | None = None,
    start: date | None = None,
    tickers: list[str] | None = None,
) -> PricePanel:
    """Align long-format prices (ticker, trade_date, open..volume) on the exchange sessions.

    `tickers` fixes the universe (no ticker is dropped: violations raise PanelError); `start`
    overrides the policy's start (the prediction path passes the dataset's own start).
    """
    if prices.empty:
        raise PanelError("no stored prices: run `tickcast ingest` first")
    prices = prices.assign(trade_date=pd.to_datetime(prices["trade_date"]))
    if end is not None:
        prices = prices[prices["trade_date"] <= pd.Timestamp(end)]
    last_day = prices["trade_date"].max().date()
    universe = tickers if tickers is not None else sorted(prices["ticker"].unique())
    by_ticker = {
        str(t): g.set_index("trade_date")[PRICE_FIELDS] for t, g in prices.groupby("ticker")
    }
    missing = [t for t in universe if t not in by_ticker]
    if missing:
        raise PanelError(f"no stored prices for tickers {missing}")

    all_sessions = pd.DatetimeIndex(
        calendar.sessions_between(prices["trade_date"].min().date(), last_day)
    )
    decisions: dict[str, TickerDecision] = {}
    for ticker in universe:
        reason = _history_problem(by_ticker[ticker], all_sessions, policy)
        if reason:
            decisions[ticker] = _decision(ticker, by_ticker[ticker], False, reason)
    candidates = [t for t in universe if t not in decisions]
    panel_start = (
        start or policy.start or _coverage_start(by_ticker, candidates, policy.start_coverage)
    )
    for ticker in candidates:
        first = by_ticker[ticker].index.min().date()
        if first > panel_start:
            decisions[ticker] = _decision(
                ticker,
                by_ticker[ticker],
                False,
                f"late starter: first price {first} is after the panel start {panel_start}",
            )
    if tickers is not None and decisions:
        problems = "; ".join(f"{d.ticker}: {d.reason}" for d in decisions.values())
        raise PanelError(f"required tickers cannot be aligned: {problems}")
    kept = [t for t in universe if t not in decisions]
    if not kept:
        raise PanelError(
            "no ticker satisfies the panel policy: "
            + "; ".join(f"{d.ticker}: {d.reason}" for d in decisions.values())
        )

    sessions = all_sessions[all_sessions >= pd.Timestamp(panel_start)]
    frames, filled = _align(by_ticker, kept, sessions, policy.max_gap_sessions)
    for ticker in kept:
        decisions[ticker] = _decision(
            ticker, by_ticker[ticker], True, "kept", int(filled[ticker].sum())
        )
    return PricePanel(
        dates=sessions,
        tickers=kept,
        **frames,
        filled=filled,
        decisions=[decisions[t] for t in universe],
    )


def _history_problem(
    frame: pd.DataFrame, sessions: pd.DatetimeIndex, policy: DatasetSettings
) -> str | None:
    if len(frame) < policy.min_history_sessions:
        return f"short history: {len(frame)} sessions < min_history_sessions {policy.min_history_sessions}"
    end = sessions[-1]
    behind = int(((sessions > frame.index.max()) & (sessions <= end)).sum())
    if behind > policy.max_gap_sessions:
        return (
            f"stale: last price {frame.index.max().date()} is {behind} sessions before {end.date()}"
        )
    present = sessions[(sessions >= frame.index.min()) & (sessions <= frame.index.max())]
    missing = ~present.isin(frame.index)
    longest, where = _longest_run(missing)
    if longest > policy.max_gap_sessions:
        return (
            f"gap of {longest} sessions from {present[where].date()} exceeds "
            f"max_gap_sessions {policy.max_gap_sessions}"
        )
    return None


def _longest_run(flags: np.ndarray) -> tuple[int, int]:
    """Length and start index of the longest run of True."""
    if not flags.any():
        return 0, 0
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    longest = int((ends - starts).argmax())
    return int(ends[longest] - starts[longest]), int(starts[longest])


def _coverage_start(
    by_ticker: dict[str, pd.DataFrame], tickers: list[str], coverage: float
) -> date:
    if not tickers:
        raise PanelError("no ticker has enough history for a panel")
    firsts = sorted(by_ticker[t].index.min() for t in tickers)
    position = max(0, int(np.ceil(coverage * len(firsts))) - 1)
    first: pd.Timestamp = firsts[position]
    return first.date()


def _align(
    by_ticker: dict[str, pd.DataFrame], tickers: list[str], sessions: pd.DatetimeIndex, limit: int
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    columns: dict[str, dict[str, pd.Series]] = {name: {} for name in PRICE_FIELDS}
    filled: dict[str, pd.Series] = {}
    for ticker in tickers:
        frame = by_ticker[ticker].reindex(sessions)
        gaps = frame["close"].isna()
        volume = frame["volume"].where(~gaps, 0.0)
        frame = frame.ffill(limit=limit) if limit else frame
        frame["volume"] = volume
        filled[ticker] = gaps
        for name in PRICE_FIELDS:
            columns[name][ticker] = frame[name].astype("float64")
    frames = {name: pd.DataFrame(series, index=sessions) for name, series in columns.items()}
    return frames, pd.DataFrame(filled, index=sessions)


def _decision(
    ticker: str, frame: pd.DataFrame, kept: bool, reason: str, filled: int = 0
) -> TickerDecision:
    return TickerDecision(
        ticker=ticker,
        kept=kept,
        reason=reason,
        first=frame.index.min().date(),
        last=frame.index.max().date(),
        sessions=len(frame),
        filled=filled,
    )
