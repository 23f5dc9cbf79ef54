"""A seeded, correlated geometric-Brownian-motion market on the exchange calendar, optionally
with a planted, weakly predictable component (a short-term reversal apart from the market) and
with volatility that clusters in spells announced by trading volume.

Each ticker's path depends only on (seed, ticker index) and the session dates, drawn from
independent random streams, so a longer date range extends a path without changing its past:
ingesting day by day gives the same rows as ingesting everything at once.

Optionally the tickers split and pay dividends: prices are then served as traded (the path's
total-return value divided by the splits and less the dividends so far), or as an adjusted-only
source serves them, re-written as of the newest session served. Either way the adjusted
returns are the path's.
"""

from __future__ import annotations

import threading
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from tickcast.config import SyntheticSourceSettings
from tickcast.data.actions import ACTION_COLUMNS, adjust
from tickcast.data.calendar import TradingCalendar
from tickcast.data.sources.base import ROW_COLUMN, PriceSource, SourceError

TRADING_DAYS_PER_YEAR = 252
# Generated paths by (settings, exchange, ticker index), oldest first (see _known_path).
_PATHS: dict[tuple[str, str, int], pd.DataFrame] = {}
_PATHS_KEPT = 2000
_PATHS_LOCK = threading.Lock()
# The same paths as traded, with their splits and dividends (when the settings have any).
_TRADED: dict[tuple[str, str, int, int], tuple[pd.DataFrame, pd.DataFrame]] = {}
_MARKET_STREAM, _IDIOSYNCRATIC, _GAP, _HIGH, _LOW, _VOLUME, _PROFILE, _SPELLS = range(8)
_QUARTER_SESSIONS = 63  # dividends: one ex-date every quarter


class SyntheticSource(PriceSource):
    """Tickers SYN000, SYN001, … following a one-factor GBM with an optional regime shift."""

    name = "synthetic"

    def __init__(
        self, settings: SyntheticSourceSettings, calendar: TradingCalendar, end: date | None = None
    ) -> None:
        self.settings = settings
        self.calendar = calendar
        self.as_traded = settings.prices == "as_traded"
        last = end or settings.end or calendar.latest_completed_session()
        self.sessions = pd.DatetimeIndex(calendar.sessions_between(settings.start, last))
        if len(self.sessions) == 0:
            raise SourceError(
                f"no {calendar.exchange} sessions between {settings.start} and {last}"
            )

    def available_tickers(self) -> list[str]:
        return [ticker_name(i) for i in range(self.settings.n_tickers)]

    def fetch(self, ticker: str, after: date | None, end: date | None) -> pd.DataFrame:
        """The ticker's rows in (after, end] of this source's sessions."""
        index = self._index(ticker)
        frame = self._known_path(index)
        dates = frame["trade_date"].to_numpy()
        last = self._last(end)
        stop = dates.searchsorted(last.to_datetime64(), side="right")
        first = 0 if after is None else dates.searchsorted(np.datetime64(after), side="right")
        if self._pays_actions(index):
            frame, actions = self._traded_path(index)
            if not self.as_traded:
                known = actions[actions["ex_date"] <= last]
                frame = self._adjusted_as_of(index, frame.iloc[:stop], known)
        return frame.iloc[first:stop].copy()

    def fetch_actions(self, ticker: str, after: date | None, end: date | None) -> pd.DataFrame:
        index = self._index(ticker)
        if not self._pays_actions(index):
            return super().fetch_actions(ticker, after, end)
        actions = self._traded_path(index)[1]
        known = actions["ex_date"] <= self._last(end)
        if after is not None:
            known &= actions["ex_date"] > pd.Timestamp(after)
        return actions[known].reset_index(drop=True)

    def _last(self, end: date | None) -> pd.Timestamp:
        return self.sessions[-1] if end is None else min(self.sessions[-1], pd.Timestamp(end))

    def _pays_actions(self, index: int) -> bool:
        name = ticker_name(index)
        return self.settings.dividend_yield > 0 or any(
            split.ticker == name for split in self.settings.splits
        )

    def _traded_path(self, index: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The known path as traded, and every action on it, computed once per process (a row
        as traded depends only on the actions up to its own date)."""
        path = self._known_path(index)
        key = (self.settings.model_dump_json(), self.calendar.exchange, index, len(path))
        with _PATHS_LOCK:
            kept = _TRADED.get(key)
        if kept is not None:
            return kept
        actions = self._actions(index, path)
        traded = self._as_traded(path, actions)
        with _PATHS_LOCK:
            _TRADED[key] = (traded, actions)
            while len(_TRADED) > _PATHS_KEPT:
                _TRADED.pop(next(iter(_TRADED)))
        return traded, actions

    def _actions(self, index: int, path: pd.DataFrame) -> pd.DataFrame:
        """The ticker's splits and dividends on the path. A dividend pays the quarter's yield on
        the as-traded close before its ex-date."""
        dates = path["trade_date"].to_numpy()
        name = ticker_name(index)
        rows: list[tuple[pd.Timestamp, str, float]] = [
            (pd.Timestamp(dates[at]), "split", split.ratio)
            for split in self.settings.splits
            if split.ticker == name
            and (at := dates.searchsorted(np.datetime64(split.date))) < len(dates)
        ]
        quarterly = self.settings.dividend_yield / 4
        if quarterly > 0:
            offset = 1 + (index * 13) % _QUARTER_SESSIONS
            ex = np.arange(offset, len(dates), _QUARTER_SESSIONS)
            closes = (
                path["close"].to_numpy() * _traded_multiple(dates, rows, ex, quarterly)
            ).round(4)
            rows += [(pd.Timestamp(dates[i]), "dividend", quarterly * closes[i - 1]) for i in ex]
        actions = pd.DataFrame(rows, columns=ACTION_COLUMNS).astype({"value": float})
        return actions.sort_values(["ex_date", "kind"], kind="stable").reset_index(drop=True)

    def _as_traded(self, path: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
        """The path's rows as traded under `actions`: prices divided by the splits and less the
        dividends so far, volume in the shares of the day."""
        dates = path["trade_date"].to_numpy()
        splits = [
            (day, kind, ratio)
            for day, kind, ratio in actions.itertuples(index=False)
            if kind == "split"
        ]
        ex = dates.searchsorted(actions.loc[actions["kind"] == "dividend", "ex_date"].to_numpy())
        multiple = _traded_multiple(dates, splits, ex, self.settings.dividend_yield / 4)
        shares = np.ones(len(dates))
        for day, _, ratio in splits:
            shares[dates.searchsorted(day.to_datetime64()) :] *= ratio
        frame = path.copy()
        for column in ("open", "high", "low", "close"):
            frame[column] = (path[column].to_numpy() * multiple).round(4)
        frame["adj_close"] = frame["close"]
        frame["volume"] = np.round(path["volume"].to_numpy() * shares).astype(np.int64)
        return frame

    @staticmethod
    def _adjusted_as_of(index: int, traded: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
        """As an adjusted-only source serves the rows on their last date: split-adjusted, with a
        split- and dividend-adjusted close, under the actions known then."""
        dates = traded["trade_date"].to_numpy()
        adjusted = adjust(ticker_name(index), dates, traded["close"].to_numpy(), actions)
        frame = traded.copy()
        for column in ("open", "high", "low", "close"):
            frame[column] = traded[column] / adjusted.split_factor
        frame["adj_close"] = adjusted.adj_close
        frame["volume"] = np.round(traded["volume"].to_numpy() * adjusted.split_factor).astype(
            np.int64
        )
        return frame

    def _known_path(self, index: int) -> pd.DataFrame:
        """The ticker's path, generated once per process up to the configured end (or the
        latest session) and sliced: a longer range extends a path without changing its past,
        so a day-by-day replay does not draw the whole history again every session."""
        key = (self.settings.model_dump_json(), self.calendar.exchange, index)
        with _PATHS_LOCK:
            kept = _PATHS.get(key)
        if kept is not None and kept["trade_date"].iloc[-1] >= self.sessions[-1]:
            return kept
        horizon = max(
            self.sessions[-1].date(),
            self.settings.end or self.calendar.latest_completed_session(),
        )
        path = SyntheticSource(self.settings, self.calendar, end=horizon)._path(index)
        with _PATHS_LOCK:
            _PATHS[key] = path
            while len(_PATHS) > _PATHS_KEPT:
                _PATHS.pop(next(iter(_PATHS)))
        return path

    @cached_property
    def _indices(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.available_tickers())}

    def _index(self, ticker: str) -> int:
        names = self._indices
        if ticker not in names:
            raise SourceError(
                f"unknown ticker {ticker}: the synthetic market has {self.settings.n_tickers} "
                f"tickers {ticker_name(0)}..{ticker_name(self.settings.n_tickers - 1)}"
            )
        return names[ticker]

    @cached_property
    def _regime(self) -> tuple[np.ndarray, np.ndarray]:
        """Annual drift and volatility per session (the shift applies from its date on)."""
        n = len(self.sessions)
        drift = np.full(n, self.settings.annual_drift)
        volatility = np.full(n, self.settings.annual_volatility)
        shift = self.settings.regime_shift
        if shift is not None:
            after_shift = self.sessions >= pd.Timestamp(shift.date)
            drift[after_shift] = shift.annual_drift
            volatility[after_shift] = shift.annual_volatility
        return drift, volatility

    @cached_property
    def _market_shocks(self) -> np.ndarray:
        return self._stream(0, _MARKET_STREAM).standard_normal(len(self.sessions))

    def _stream(self, index: int, purpose: int) -> np.random.Generator:
        return np.random.default_rng([self.settings.seed, index, purpose])

    def _turbulence(self, index: int) -> np.ndarray:
        """Per session and the one after the last, 1 in a calm spell and the turbulent multiple
        in a turbulent one (spells end with probability 1 / their mean length each session);
        all 1 without spells."""
        n, spell = len(self.sessions) + 1, self.settings.volatility_spell_sessions
        if spell == 0:
            return np.ones(n)
        ends = self._stream(index, _SPELLS).random(n) < 1 / spell
        turbulent = np.cumsum(ends) % 2 == 1
        return np.where(turbulent, self.settings.turbulent_volatility_multiple, 1.0)

    def _path(self, index: int) -> pd.DataFrame:
        n = len(self.sessions)
        rho = self.settings.market_correlation
        profile = self._stream(index, _PROFILE)
        start_price = profile.uniform(20, 300)
        vol_scale = profile.uniform(0.7, 1.4)
        mean_volume = profile.uniform(2e5, 2e7)

        drift, volatility = self._regime
        turbulence = self._turbulence(index)
        sigma = volatility * vol_scale * turbulence[:n] / np.sqrt(TRADING_DAYS_PER_YEAR)
        mu = drift / TRADING_DAYS_PER_YEAR - 0.5 * sigma**2
        idiosyncratic = self._stream(index, _IDIOSYNCRATIC).standard_normal(n)
        # The planted reversal: part of yesterday's idiosyncratic shock comes back today.
        idiosyncratic[1:] -= self.settings.planted_reversal * idiosyncratic[:-1].copy()
        shocks = rho * self._market_shocks + np.sqrt(1 - rho**2) * idiosyncratic
        close = start_price * np.exp(np.cumsum(mu + sigma * shocks))

        previous_close = np.concatenate([[start_price], close[:-1]])
        open_ = previous_close * np.exp(0.25 * sigma * self._stream(index, _GAP).standard_normal(n))
        body_high, body_low = np.maximum(open_, close), np.minimum(open_, close)
        high = body_high * np.exp(
            np.abs(0.5 * sigma * self._stream(index, _HIGH).standard_normal(n))
        )
        low = body_low * np.exp(-np.abs(0.5 * sigma * self._stream(index, _LOW).standard_normal(n)))
        # Traders see a turbulent spell coming: volume rises the session before it, stays up
        activity = np.maximum(turbulence[:n], turbulence[1:])
        volume = np.round(
            mean_volume * activity * self._stream(index, _VOLUME).lognormal(0.0, 0.4, n)
        )

        return pd.DataFrame(
            {
                "trade_date": self.sessions,
                "open": open_.round(4),
                "high": high.round(4),
                "low": low.round(4),
                "close": close.round(4),
                "adj_close": close.round(4),
                "volume": volume.astype(np.int64),
                ROW_COLUMN: np.arange(1, n + 1),
            }
        )


def _traded_multiple(
    dates: np.ndarray,
    splits: list[tuple[pd.Timestamp, str, float]],
    ex: np.ndarray,
    quarterly: float,
) -> np.ndarray:
    """Per session, as-traded price / the path's value: the dividends paid out so far (a
    `quarterly` fraction each, on the sessions at `ex`) and the splits so far divide it."""
    paid = np.zeros(len(dates))
    paid[ex] = np.log1p(-quarterly)
    for day, _, ratio in splits:
        paid[dates.searchsorted(day.to_datetime64())] -= np.log(ratio)
    return np.exp(np.cumsum(paid))


def ticker_name(index: int) -> str:
    return f"SYN{index:03d}"
