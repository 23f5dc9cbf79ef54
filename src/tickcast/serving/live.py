"""Forecasts computed now from the latest stored prices, cached until the model or the prices
change: a request costs a dictionary lookup, a new ingest or model one model pass."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date

from tickcast.config import Settings
from tickcast.db.ingest_runs import newest_run_stamp
from tickcast.db.prices import last_stored_dates
from tickcast.ops.live_calibration import live_calibration
from tickcast.ops.predict import Forecast, calibration_used, forecast_with
from tickcast.serving.database import ServingDatabase
from tickcast.serving.holder import LoadedModel


class UnknownTickerError(LookupError):
    """A ticker with no stored prices (or outside the configured tickers)."""


class NoProductionModelError(RuntimeError):
    """Nothing has been promoted yet (or the first load failed)."""


@dataclass(frozen=True)
class ForecastSet:
    version: int
    as_of: date
    target_date: date
    forecasts: dict[str, Forecast]
    skipped: dict[str, str]  # ticker -> why it has no forecast (stale, short history, a gap)
    interval_calibration: str | None = None  # which calibration the bands used

    def known(self) -> list[str]:
        return sorted({*self.forecasts, *self.skipped})


class LiveForecasts:
    def __init__(self, settings: Settings, database: ServingDatabase) -> None:
        self._settings = settings
        self._database = database
        self._cached: tuple[tuple[int, object], ForecastSet] | None = None
        self._stamp: object = None
        self._stamp_checked = float("-inf")
        self._computing = threading.Lock()

    def forecast(self, model: LoadedModel | None, tickers: list[str] | None) -> ForecastSet:
        """Forecasts of `tickers` (default: every stored one that can be forecast), in the order
        asked; the asked ones that cannot be forecast are listed in `skipped` with the reason."""
        return _subset(self._all(_checked(model)), tickers)

    def cached(self, model: LoadedModel | None, tickers: list[str] | None) -> ForecastSet | None:
        """The same, when it needs no model pass (else None): cheap enough for an event loop."""
        found = self._cached_set(_checked(model))
        return _subset(found, tickers) if found is not None else None

    def _cached_set(self, model: LoadedModel) -> ForecastSet | None:
        cached = self._cached
        if cached is not None and cached[0] == (model.production.version, self._data_stamp()):
            return cached[1]
        return None

    def _all(self, model: LoadedModel) -> ForecastSet:
        found = self._cached_set(model)
        if found is not None:
            return found
        with self._computing:  # one computation, however many requests arrive meanwhile
            found = self._cached_set(model)  # computed while this request waited
            if found is not None:
                return found
            key = (model.production.version, self._data_stamp())
            configured = self._settings.tickers or None
            stored = self._database.run(lambda conn: last_stored_dates(conn, configured))
            as_of = max(stored.values()) if stored else date.min
            intervals = model.bundle.intervals
            live = (
                None
                if intervals is None
                else self._database.run(
                    lambda conn: live_calibration(
                        conn, self._settings, model.production, intervals, as_of
                    )
                )
            )
            target, forecasts, skipped = forecast_with(
                self._settings, model.bundle, as_of, tickers=sorted(stored), live=live
            )
            computed = ForecastSet(
                model.production.version,
                as_of,
                target,
                {f.ticker: f for f in forecasts},
                {s.ticker: s.reason for s in skipped},
                calibration_used(model.bundle, live),
            )
            self._cached = (key, computed)
            return computed

    def _data_stamp(self) -> object:
        """The newest ingest run, looked up at most every `serving.data_check_seconds`."""
        now = time.monotonic()
        if now - self._stamp_checked >= self._settings.serving.data_check_seconds:
            self._stamp = self._database.run(newest_run_stamp)
            self._stamp_checked = now
        return self._stamp


def _checked(model: LoadedModel | None) -> LoadedModel:
    if model is None:
        raise NoProductionModelError(
            "no production model to serve yet: run the daily or retraining pipeline"
        )
    return model


def _subset(every: ForecastSet, tickers: list[str] | None) -> ForecastSet:
    """The forecasts and skips of the tickers asked for (default: every forecast), in order."""
    if not tickers:
        return every
    wanted = list(dict.fromkeys(t.strip().upper() for t in tickers))
    unknown = [t for t in wanted if t not in every.forecasts and t not in every.skipped]
    if unknown:
        raise UnknownTickerError(
            f"unknown ticker{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: "
            f"no stored prices ({len(every.known())} tickers are known: GET /tickers)"
        )
    return ForecastSet(
        every.version,
        every.as_of,
        every.target_date,
        {t: every.forecasts[t] for t in wanted if t in every.forecasts},
        {t: every.skipped[t] for t in wanted if t in every.skipped},
        every.interval_calibration,
    )
