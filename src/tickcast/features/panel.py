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

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

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
    *,
    min_sessions: int,
    max_gap_sessions: int,
    end: date | None = None,
    start: date | None = None,
    tickers: list[str] | None = None,
) -> PricePanel:
    """Align long-format prices (ticker, trade_date, open..volume) on the exchange sessions from
    `start` (default: the first stored price) to `end` (default: the last)."""
    if prices.empty:
        raise PanelError("no stored prices: run `tickcast ingest` first")
    prices = prices.assign(trade_date=pd.to_datetime(prices["trade_date"]))
    if end is not None:
        prices = prices[prices["trade_date"] <= pd.Timestamp(end)]
    if start is not None:
        prices = prices[prices["trade_date"] >= pd.Timestamp(start)]
    if prices.empty:
        raise PanelError(f"no stored prices between {start or 'the start'} and {end or 'the end'}")
    by_ticker = {
        str(t): g.set_index("trade_date")[PRICE_FIELDS] for t, g in prices.groupby("ticker")
    }
    universe = tickers if tickers is not None else sorted(by_ticker)
    sessions = pd.DatetimeIndex(
        calendar.sessions_between(
            prices["trade_date"].min().date(), prices["trade_date"].max().date()
        )
    )
    decisions: dict[str, TickerDecision] = {}
    kept: list[str] = []
    for ticker in universe:
        frame = by_ticker.get(ticker)
        if frame is None:
            decisions[ticker] = TickerDecision(ticker, False, "no stored prices")
        elif len(frame) < min_sessions:
            decisions[ticker] = _decision(
                ticker,
                frame,
                False,
                f"short history: {len(frame)} sessions < {min_sessions} (warm-up, one window "
                "and the horizon)",
            )
        else:
            kept.append(ticker)
    if not kept:
        raise PanelError(
            "no ticker has enough history: "
            + "; ".join(f"{d.ticker}: {d.reason}" for d in decisions.values())
        )
    frames, filled = _align(by_ticker, kept, sessions, max_gap_sessions)
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


def _align(
    by_ticker: dict[str, pd.DataFrame], tickers: list[str], sessions: pd.DatetimeIndex, limit: int
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Each ticker on every session: filled across short gaps inside its life, NaN elsewhere."""
    columns: dict[str, dict[str, pd.Series]] = {name: {} for name in PRICE_FIELDS}
    filled: dict[str, pd.Series] = {}
    for ticker in tickers:
        stored = by_ticker[ticker]
        frame = stored.reindex(sessions)
        alive = (sessions >= stored.index.min()) & (sessions <= stored.index.max())
        gaps = frame["close"].isna().to_numpy() & alive
        short = gaps & (_run_lengths(gaps) <= limit)
        carried = frame.ffill(limit=limit) if limit else frame
        frame = carried.where(pd.Series(short, index=sessions), frame, axis=0)
        frame["volume"] = frame["volume"].where(~short, 0.0)
        filled[ticker] = pd.Series(short, index=sessions)
        for name in PRICE_FIELDS:
            columns[name][ticker] = frame[name].astype("float64")
    frames = {name: pd.DataFrame(series, index=sessions) for name, series in columns.items()}
    return frames, pd.DataFrame(filled, index=sessions)


def _run_lengths(flags: np.ndarray) -> np.ndarray:
    """For each True, the length of the run of Trues it belongs to (0 for False)."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    lengths = np.zeros(len(flags), dtype=np.int64)
    for begin, finish in zip(starts, ends, strict=True):
        lengths[begin:finish] = finish - begin
    return lengths


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
