"""The universe as of a date: which tickers were members on each session.

Loaded from a CSV file (`ticker,from,to`; an empty `to`: still a member) into universe_members.
When a universe is loaded, datasets train only on sessions where the ticker was a member, the
daily run checks and forecasts the members of its day (a ticker that has left is not stale), and
reports say which universe they used; without one, every ticker counts for all of history
(today's tickers, with their survivorship bias).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from tickcast.config import Settings
from tickcast.db.connection import Connection, open_connection
from tickcast.db.migrate import ensure_schema
from tickcast.db.universe import Interval, load_members, replace_members
from tickcast.tickers import ticker_symbol

TODAYS_TICKERS = "today's tickers for all of history (no universe loaded: survivorship bias)"
_HEADER = ["ticker", "from", "to"]


class UniverseError(ValueError):
    """A membership file that cannot be loaded (the message names the line and the problem)."""


@dataclass(frozen=True)
class Universe:
    """Membership intervals per ticker."""

    members: dict[str, list[Interval]]

    def member_on(self, ticker: str, day: date) -> bool:
        return any(
            first <= day and (last is None or day <= last)
            for first, last in self.members.get(ticker, [])
        )

    def members_on(self, day: date) -> list[str]:
        return sorted(t for t in self.members if self.member_on(t, day))

    def members_up_to(self, day: date) -> list[str]:
        """Every ticker that was a member on some session up to `day`."""
        return sorted(
            t for t, intervals in self.members.items() if any(f <= day for f, _ in intervals)
        )

    def member_rows(self, prices: pd.DataFrame) -> np.ndarray:
        """True for the rows of long-format prices (ticker, trade_date) on which their ticker
        was a member."""
        days = pd.to_datetime(prices["trade_date"]).to_numpy(dtype="datetime64[D]")
        keep = np.zeros(len(prices), dtype=bool)
        for ticker, rows in prices.groupby("ticker", sort=False).indices.items():
            for first, last in self.members.get(str(ticker), []):
                inside = days[rows] >= np.datetime64(first)
                if last is not None:
                    inside &= days[rows] <= np.datetime64(last)
                keep[rows[inside]] = True
        return keep

    def describe(self, day: date) -> str:
        return (
            f"point-in-time universe: {len(self.members)} tickers ever members, "
            f"{len(self.members_on(day))} on {day}"
        )


def stored_universe(conn: Connection) -> Universe | None:
    """The loaded universe; None when none is (today's tickers)."""
    members = load_members(conn)
    return Universe(members) if members else None


def universe_label(universe: Universe | None, day: date) -> str:
    """What a report says of the universe it used."""
    return universe.describe(day) if universe is not None else TODAYS_TICKERS


def read_membership(path: Path) -> list[tuple[str, date, date | None]]:
    """The file's intervals, checked: UniverseError names the line of the first bad one."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise UniverseError(f"{path} does not exist") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise UniverseError(f"{path} is not a readable CSV file: {error}") from None
    except (IsADirectoryError, PermissionError) as error:
        raise UniverseError(f"{path} cannot be read: {error.strerror}") from None
    header = [str(column).strip().lower() for column in raw.columns]
    if header[:3] != _HEADER:
        raise UniverseError(f"{path}: header {list(raw.columns)} is not {','.join(_HEADER)}")
    rows: list[tuple[str, date, date | None]] = []
    for line, (name, first, last) in enumerate(raw.iloc[:, :3].itertuples(index=False), 2):
        where = f"{path.name} line {line}"
        try:
            ticker = ticker_symbol(name)
        except ValueError as error:
            raise UniverseError(f"{where}: {error}") from None
        start = _date(first, where, "from")
        end = _date(last, where, "to") if last.strip() else None
        if end is not None and end < start:
            raise UniverseError(f"{where}: {ticker} leaves on {end}, before it joins on {start}")
        rows.append((ticker, start, end))
    _refuse_overlaps(rows, path.name)
    return rows


def load_universe(settings: Settings, path: Path) -> Universe:
    """Replace the stored membership with the file's, in one transaction."""
    rows = read_membership(path)
    if not rows:
        raise UniverseError(f"{path} lists no member")
    with open_connection(settings) as conn:
        ensure_schema(conn)
        replace_members(conn, rows)
        universe = stored_universe(conn)
    assert universe is not None
    return universe


def _date(text: str, where: str, column: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UniverseError(f"{where}: `{column}` {text!r} is not a date (YYYY-MM-DD)") from None


def _refuse_overlaps(rows: list[tuple[str, date, date | None]], name: str) -> None:
    by_ticker: dict[str, list[tuple[date, date | None]]] = {}
    for ticker, first, last in rows:
        by_ticker.setdefault(ticker, []).append((first, last))
    for ticker, intervals in by_ticker.items():
        intervals.sort(key=lambda interval: interval[0])
        for (_, last), (next_first, _) in itertools.pairwise(intervals):
            if last is None or next_first <= last:
                raise UniverseError(
                    f"{name}: {ticker}'s memberships overlap (one from {next_first} while the "
                    f"one before {'has not ended' if last is None else f'runs to {last}'})"
                )
