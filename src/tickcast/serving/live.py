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
from tickcast.ops.predict import Forecast, forecast_with
from tickcast.serving.database import ServingDatabase
from tickcast.serving.holder import LoadedModel


class UnknownTickerError(LookupError):
    """A ticker the served model does not forecast."""


class NoProductionModelError(RuntimeError):
    """Nothing has been promoted yet (or the first load failed)."""


@dataclass(frozen=True)
class ForecastSet:
    version: int
    as_of: date
    target_date: date
    forecasts: dict[str, Forecast]


class LiveForecasts:
    def __init__(self, settings: Settings, database: ServingDatabase) -> None:
        self._settings = settings
        self._database = database
        self._cached: tuple[tuple[int, object], ForecastSet] | None = None
        self._stamp: object = None
        self._stamp_checked = float("-inf")
        self._computing = threading.Lock()

    def forecast(self, model: LoadedModel | None, tickers: list[str] | None) -> ForecastSet:
        """Forecasts of `tickers` (default: every ticker of the model), in the order asked."""
        served, wanted = _checked(model, tickers)
        return _subset(self._all(served), wanted)

    def cached(self, model: LoadedModel | None, tickers: list[str] | None) -> ForecastSet | None:
        """The same, when it needs no model pass (else None): cheap enough for an event loop."""
        served, wanted = _checked(model, tickers)
        found = self._cached_set(served)
        return _subset(found, wanted) if found is not None else None

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
            tickers = model.bundle.spec.tickers
            stored = self._database.run(lambda conn: last_stored_dates(conn, tickers))
            as_of = max(stored.values()) if stored else date.min
            target, forecasts = forecast_with(self._settings, model.bundle, as_of)
            computed = ForecastSet(
                model.production.version, as_of, target, {f.ticker: f for f in forecasts}
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


def _checked(model: LoadedModel | None, tickers: list[str] | None) -> tuple[LoadedModel, list[str]]:
    """The model, and the tickers asked for (default: all it knows) checked against it."""
    if model is None:
        raise NoProductionModelError(
            "no production model to serve yet: run the daily or retraining pipeline"
        )
    known = model.bundle.spec.tickers
    wanted = list(dict.fromkeys(t.strip().upper() for t in tickers)) if tickers else known
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise UnknownTickerError(
            f"unknown ticker{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: "
            f"model v{model.production.version} forecasts {len(known)} tickers (GET /tickers)"
        )
    return model, wanted


def _subset(every: ForecastSet, wanted: list[str]) -> ForecastSet:
    return ForecastSet(
        every.version, every.as_of, every.target_date, {t: every.forecasts[t] for t in wanted}
    )
