"""Yahoo Finance through the yfinance client: incremental ranges, retry with backoff, rate-limit pauses."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd

from tickcast.config import YFinanceSourceSettings
from tickcast.data.calendar import TradingCalendar
from tickcast.data.sources.base import (
    RAW_COLUMNS,
    ROW_COLUMN,
    YAHOO_COLUMNS,
    PriceSource,
    SourceError,
)

log = logging.getLogger(__name__)


class YFinanceSource(PriceSource):
    """Daily bars from Yahoo's chart API. `session` replaces yfinance's HTTP session (tests, proxies)."""

    name = "yfinance"

    def __init__(
        self,
        settings: YFinanceSourceSettings,
        calendar: TradingCalendar,
        tickers: list[str] | None = None,
        session: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import yfinance

        self._yf = yfinance
        yfinance.config.debug.hide_exceptions = (
            False  # raise instead of logging and returning empty
        )
        self.settings = settings
        self.calendar = calendar
        self.session = session
        self._tickers = tickers or []
        self._sleep = sleep
        self._requests = 0

    def available_tickers(self) -> list[str]:
        """Yahoo cannot list its tickers: the configured list is the universe."""
        return list(self._tickers)

    def fetch(self, ticker: str, after: date | None, end: date | None) -> pd.DataFrame:
        first = self.calendar.next_session(after) if after else self.settings.history_start
        last = end or self.calendar.latest_completed_session()
        if first > last:
            return pd.DataFrame(columns=[*RAW_COLUMNS, ROW_COLUMN])
        # yfinance's end is exclusive: ask up to the session after `last`.
        history = self._history_with_retries(ticker, first, self.calendar.next_session(last))
        if history is None or history.empty:
            if after is None:
                raise SourceError(f"unknown ticker {ticker}: Yahoo returned no prices")
            return pd.DataFrame(columns=[*RAW_COLUMNS, ROW_COLUMN])
        missing = sorted(set(YAHOO_COLUMNS) - set(history.columns))
        if missing:
            raise SourceError(f"Yahoo response for {ticker} lacks columns {missing}")
        dates = pd.DatetimeIndex(history.index)
        if dates.tz is not None:
            dates = dates.tz_localize(None)
        frame = history[list(YAHOO_COLUMNS)].rename(columns=YAHOO_COLUMNS).reset_index(drop=True)
        frame.insert(0, "trade_date", dates.normalize())
        frame[ROW_COLUMN] = range(1, len(frame) + 1)
        return frame[frame["trade_date"] <= pd.Timestamp(last)]

    def _history_with_retries(self, ticker: str, start: date, end: date) -> pd.DataFrame | None:
        errors = self._yf.exceptions
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            if self._requests and self.settings.pause_between_tickers_seconds:
                self._sleep(self.settings.pause_between_tickers_seconds)
            self._requests += 1
            try:
                return self._history(ticker, start, end)
            except (errors.YFPricesMissingError, errors.YFTzMissingError):
                return None
            except errors.YFRateLimitError:
                delay = self.settings.rate_limit_pause_seconds
                reason = "rate limited by Yahoo"
            except Exception as error:  # network, HTTP and parsing failures are worth a retry
                if _http_status(error) == 404:  # Yahoo's answer for a symbol it does not know
                    return None
                delay = self.settings.backoff_seconds * 2**attempt
                reason = f"{type(error).__name__}: {error}"
            if attempt + 1 == attempts:
                raise SourceError(f"Yahoo request for {ticker} failed {attempts} times: {reason}")
            log.warning(
                "%s: %s; retry %d/%d in %.1fs", ticker, reason, attempt + 1, attempts - 1, delay
            )
            self._sleep(delay)
        raise AssertionError("unreachable")

    def _history(self, ticker: str, start: date, end: date) -> pd.DataFrame:
        with warnings.catch_warnings():
            # yfinance uses pandas APIs that pandas 3.1 deprecates; nothing for tickcast to act on.
            warnings.filterwarnings("ignore", module=r"yfinance\.")
            history: pd.DataFrame = self._yf.Ticker(ticker, session=self.session).history(
                start=start.isoformat(),
                end=end.isoformat(),
                interval="1d",
                auto_adjust=False,
                actions=False,
                timeout=self.settings.timeout_seconds,
            )
        return history


def _http_status(error: Exception) -> int | None:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None
