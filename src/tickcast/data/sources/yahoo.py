"""Yahoo Finance through the yfinance client: incremental ranges, retry with backoff, rate-limit
pauses, and the splits and dividends Yahoo reports.

Yahoo's Close, Open, High, Low and Volume are split-adjusted and its Adj Close also dividend-
adjusted, all re-written retroactively on each action: an adjusted-only source.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd

from tickcast.config import YFinanceSourceSettings
from tickcast.data.actions import ACTION_COLUMNS
from tickcast.data.calendar import TradingCalendar
from tickcast.data.sources.base import (
    RAW_COLUMNS,
    ROW_COLUMN,
    YAHOO_COLUMNS,
    PriceSource,
    SourceError,
)

log = logging.getLogger(__name__)
# The action columns of yfinance's history() frames, by tickcast's kind: Dividends in cash per
# share, Stock Splits in new shares per old one (0 on sessions without one).
_ACTION_COLUMNS = {"Stock Splits": "split", "Dividends": "dividend"}


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
        # The actions of each ticker's last fetch, with the `after` it was asked from.
        self._fetched_actions: dict[str, tuple[date | None, pd.DataFrame]] = {}

    def available_tickers(self) -> list[str]:
        """Yahoo cannot list its tickers: the configured list is the universe."""
        return list(self._tickers)

    def fetch(self, ticker: str, after: date | None, end: date | None) -> pd.DataFrame:
        self._fetched_actions.pop(ticker, None)
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
        dates = _session_dates(history)
        frame = history[list(YAHOO_COLUMNS)].rename(columns=YAHOO_COLUMNS).reset_index(drop=True)
        frame.insert(0, "trade_date", dates)
        frame[ROW_COLUMN] = range(1, len(frame) + 1)
        self._fetched_actions[ticker] = (after, _actions_of(history, last))
        return frame[frame["trade_date"] <= pd.Timestamp(last)]

    def fetch_actions(self, ticker: str, after: date | None, end: date | None) -> pd.DataFrame:
        """The actions in the range the last fetch of `ticker` asked for (Yahoo reports them only
        inside it); the ticker's whole action history, one more request, when `after` is None."""
        last = end or self.calendar.latest_completed_session()
        fetched = self._fetched_actions.get(ticker)
        if after is not None:
            if fetched is None or fetched[0] != after:
                return super().fetch_actions(ticker, after, end)
            actions = fetched[1]
            return actions[actions["ex_date"] <= pd.Timestamp(last)].reset_index(drop=True)
        history = self._history_with_retries(ticker, None, self.calendar.next_session(last))
        if history is None or history.empty:
            return super().fetch_actions(ticker, after, end)
        return _actions_of(history, last)

    def _history_with_retries(
        self, ticker: str, start: date | None, end: date
    ) -> pd.DataFrame | None:
        """Daily history in [start, end), from the first session Yahoo has when start is None."""
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

    def _history(self, ticker: str, start: date | None, end: date) -> pd.DataFrame:
        window = (
            {"period": "max"}
            if start is None
            else {"start": start.isoformat(), "end": end.isoformat()}
        )
        with warnings.catch_warnings():
            # yfinance uses pandas APIs that pandas 3.1 deprecates; nothing for tickcast to act on.
            warnings.filterwarnings("ignore", module=r"yfinance\.")
            history: pd.DataFrame = self._yf.Ticker(ticker, session=self.session).history(
                **window,
                interval="1d",
                auto_adjust=False,
                actions=True,
                timeout=self.settings.timeout_seconds,
            )
        return history


def _session_dates(history: pd.DataFrame) -> pd.DatetimeIndex:
    dates = pd.DatetimeIndex(history.index)
    if dates.tz is not None:
        dates = dates.tz_localize(None)
    return dates.normalize()


def _actions_of(history: pd.DataFrame, last: date) -> pd.DataFrame:
    """The splits and dividends in a history frame (non-zero action cells) up to `last`."""
    dates = _session_dates(history)
    parts = [
        pd.DataFrame({"ex_date": dates, "kind": kind, "value": history[column].to_numpy()})
        for column, kind in _ACTION_COLUMNS.items()
        if column in history
    ]
    if not parts:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    actions = pd.concat(parts, ignore_index=True)
    actions = actions[(actions["value"] != 0) & (actions["ex_date"] <= pd.Timestamp(last))]
    return actions.sort_values(["ex_date", "kind"], kind="stable").reset_index(drop=True)


def _http_status(error: Exception) -> int | None:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None
