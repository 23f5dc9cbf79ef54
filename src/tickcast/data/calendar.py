"""Trading days from the exchange calendar; tickcast never does calendar-day arithmetic on them."""

from __future__ import annotations

import warnings
from datetime import date, datetime, timedelta
from functools import lru_cache

import exchange_calendars as xcals
import numpy as np
import pandas as pd

from tickcast.config import Settings

# How far past today the calendar is built; exchange-calendars knows holidays about a year ahead.
_HORIZON = timedelta(days=366)


class CalendarError(ValueError):
    """A date the exchange calendar does not cover (before its first session, beyond its last)."""


class TradingCalendar:
    """Sessions of one exchange between `first_session` and about a year from today."""

    def __init__(self, exchange: str = "XNYS", first_session: date = date(1990, 1, 2)) -> None:
        self.exchange = exchange
        end = pd.Timestamp(date.today() + _HORIZON)
        with warnings.catch_warnings():
            # exchange-calendars 4.13 uses Series.values on tz-aware data, deprecated by pandas 3.1.
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
            self._calendar = xcals.get_calendar(
                exchange, start=pd.Timestamp(first_session), end=end
            )
        self._sessions = self._calendar.sessions
        self._session_values = self._sessions.values.astype("datetime64[D]")

    @property
    def first(self) -> date:
        return self._as_date(0)

    @property
    def last(self) -> date:
        return self._as_date(len(self._sessions) - 1)

    @property
    def timezone(self) -> str:
        """The exchange's time zone (e.g. America/New_York)."""
        return str(self._calendar.tz)

    def today(self) -> date:
        """Today's date in the exchange's time zone."""
        return datetime.now(self._calendar.tz).date()

    def is_session(self, day: date) -> bool:
        return bool(self._position(day, "left") != self._position(day, "right"))

    def sessions_mask(self, days: pd.Series) -> np.ndarray:
        """Vectorised is_session over a datetime-like Series."""
        values = pd.to_datetime(days).to_numpy().astype("datetime64[D]")
        return np.isin(values, self._session_values)

    def next_session(self, day: date) -> date:
        """The first session strictly after `day` (Friday -> Monday, holidays skipped)."""
        index = self._position(day, "right")
        if index >= len(self._session_values):
            raise CalendarError(
                f"{day} is beyond the last known {self.exchange} session {self.last}"
            )
        return self._as_date(index)

    def previous_session(self, day: date) -> date:
        """The last session strictly before `day`."""
        index = self._position(day, "left") - 1
        if index < 0:
            raise CalendarError(
                f"{day} is before the first known {self.exchange} session {self.first}"
            )
        return self._as_date(index)

    def session_on_or_before(self, day: date) -> date:
        return day if self.is_session(day) else self.previous_session(day)

    def sessions_between(self, start: date, end: date) -> list[date]:
        """All sessions from `start` to `end`, both inclusive."""
        low, high = self._position(start, "left"), self._position(end, "right")
        return [d.date() for d in self._sessions[low:high]]

    def sessions_ending(self, end: date, count: int) -> list[date]:
        """The last `count` sessions up to `end` inclusive (fewer near the calendar's start)."""
        high = self._position(end, "right")
        return [d.date() for d in self._sessions[max(high - count, 0) : high]]

    def latest_completed_session(self, now: datetime | None = None) -> date:
        """The newest session whose close is at or before `now` (default: the current time)."""
        moment = pd.Timestamp(now if now is not None else datetime.now().astimezone())
        moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
        closes = self._calendar.schedule["close"]
        done = closes[closes <= moment]
        if done.empty:
            raise CalendarError(f"no {self.exchange} session has closed by {moment}")
        latest: pd.Timestamp = done.index[-1]
        return latest.date()

    def _position(self, day: date, side: str) -> int:
        return int(np.searchsorted(self._session_values, np.datetime64(day, "D"), side=side))  # type: ignore[call-overload]

    def _as_date(self, index: int) -> date:
        session: pd.Timestamp = self._sessions[index]
        return session.date()


@lru_cache(maxsize=4)
def trading_calendar(
    exchange: str = "XNYS", first_session: date = date(1990, 1, 2)
) -> TradingCalendar:
    """A cached calendar per exchange (building one takes a fraction of a second)."""
    return TradingCalendar(exchange, first_session)


def configured_calendar(settings: Settings) -> TradingCalendar:
    """The calendar `settings.calendar` names (exchange and first session)."""
    return trading_calendar(settings.calendar.exchange, settings.calendar.first_session)
