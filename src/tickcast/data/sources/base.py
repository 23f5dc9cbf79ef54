"""The one interface every price source implements."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from datetime import date

import pandas as pd

from tickcast.data.actions import empty_actions

# Canonical columns a source returns; values may still be unparsed text (validation parses them).
RAW_COLUMNS = ["trade_date", "open", "high", "low", "close", "adj_close", "volume"]
# Plus "row": the row's position in the source (a CSV line number), used in error messages.
ROW_COLUMN = "row"
# A time of day with a zone: `T16:00:00Z`, ` 16:00-05:00`, `T21:00:00.5+0100`.
_ZONED_TIME = re.compile(r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$")
# Yahoo's column names (CSV downloads and yfinance frames) for the canonical price columns.
YAHOO_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}


class SourceError(RuntimeError):
    """A source could not deliver one ticker's prices (missing file, HTTP failure, unknown ticker)."""


class PriceSource(ABC):
    """Daily OHLCV prices per ticker, and the splits and dividends it knows of.

    `as_traded` sources give prices as they traded (tickcast computes the adjusted close and
    volume from the stored actions); the others give split-adjusted open..close and volume and a
    split- and dividend-adjusted close as of their newest session, re-written on each action.
    """

    name: str
    as_traded: bool = False

    @abstractmethod
    def available_tickers(self) -> list[str]:
        """Tickers the source can deliver, when it can list them."""

    def notes(self) -> list[str]:
        """What the source left out and why (e.g. files in a CSV folder that are no ticker)."""
        return []

    @abstractmethod
    def fetch(self, ticker: str, after: date | None, end: date | None) -> pd.DataFrame:
        """Rows dated after `after` (everything when None) and up to `end` (inclusive, None: all).

        Columns: RAW_COLUMNS + ROW_COLUMN. Rows whose date cannot be parsed are kept so that
        validation can name them.
        """

    def fetch_actions(self, ticker: str, after: date | None, end: date | None) -> pd.DataFrame:
        """Splits and dividends with ex-dates in (after, end] (all up to `end` when `after` is
        None; a source may return earlier ones too), in ACTION_COLUMNS (ex_date, kind
        split|dividend, value), unchecked. None known by default."""
        return empty_actions()


def parse_dates(values: pd.Series, timezone: str) -> pd.Series:
    """Session dates (datetime64 at midnight, no zone); NaT where a value is missing or not
    ISO 8601. A time of day does not make another session: a zoned time is first converted to
    `timezone` (the exchange's), then only its date is kept."""
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = pd.to_datetime(values)
        if dates.dt.tz is not None:
            dates = dates.dt.tz_convert(timezone).dt.tz_localize(None)
        return dates.dt.normalize()
    plain = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")  # the common case, fast
    others = plain.isna() & values.notna()
    if not others.any():
        return plain
    text = values[others].astype("string").str.strip()
    zoned = text.str.contains(_ZONED_TIME, na=False)
    local = pd.to_datetime(text.where(~zoned), errors="coerce", format="ISO8601")
    if zoned.any():
        converted = pd.to_datetime(text.where(zoned), errors="coerce", format="ISO8601", utc=True)
        local = local.where(~zoned, converted.dt.tz_convert(timezone).dt.tz_localize(None))
    return plain.where(~others, local.dt.normalize())


def window_mask(dates: pd.Series, after: date | None, end: date | None) -> pd.Series:
    """True for parsed session dates in (after, end] and for dates that could not be parsed."""
    keep = pd.Series(True, index=dates.index)
    if after is not None:
        keep &= dates.isna() | (dates > pd.Timestamp(after))
    if end is not None:
        keep &= dates.isna() | (dates <= pd.Timestamp(end))
    return keep
