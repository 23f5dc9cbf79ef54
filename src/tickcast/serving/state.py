"""Everything the endpoints answer from: the held model, live forecasts, the store's history.

Plain Python, no web framework: the BentoML service and the bench's bare FastAPI app call the
same methods."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tickcast.config import Settings
from tickcast.db.connection import DatabaseUnavailableError
from tickcast.db.decisions import decisions
from tickcast.db.forecasts import latest_predictions, ticker_predictions
from tickcast.db.prices import recent_closes
from tickcast.db.promotions import promotion_history
from tickcast.models.metrics import ForecastMetrics
from tickcast.ops.monitor import performance_history
from tickcast.serving.database import ServingDatabase
from tickcast.serving.holder import LoadedModel, ModelHolder
from tickcast.serving.live import (
    ForecastSet,
    LiveForecasts,
    NoProductionModelError,
    UnknownTickerError,
)
from tickcast.serving.schemas import (
    Close,
    ForecastOut,
    LatestPredictions,
    ModelOut,
    PerformanceOut,
    PerformancePoint,
    PredictResponse,
    Promotion,
    Readiness,
    SkippedOut,
    StoredForecast,
    TickerHistory,
    TickersOut,
)

PROMOTIONS_SHOWN = 20


class ServingState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database = ServingDatabase(settings)
        self.holder = ModelHolder(settings)
        self.live = LiveForecasts(settings, self.database)
        # Told of the newest daily decision every serving.poll_seconds (Prometheus gauges)
        self.decision_listener: Callable[[dict[str, Any] | None], None] | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        """Load the production model (if any) and follow the alias and the daily runs from now
        on."""
        self.holder.refresh()
        self.holder.start()
        if self.decision_listener is not None:
            self._watcher = threading.Thread(
                target=self._watch_decisions, name="decision-watcher", daemon=True
            )
            self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        self.holder.stop()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        self.database.close()

    def _watch_decisions(self) -> None:
        while True:
            try:
                found = self.last_decision()
            except DatabaseUnavailableError:  # readiness says so; the gauges keep their values
                pass
            else:
                assert self.decision_listener is not None
                self.decision_listener(found)
            if self._stop.wait(self.settings.serving.poll_seconds):
                return

    def predict(self, tickers: list[str] | None = None) -> PredictResponse:
        return self._response(self.live.forecast(self.holder.current, tickers))

    def predict_cached(self, tickers: list[str] | None = None) -> PredictResponse | None:
        """`predict` when the forecasts are computed already, else None (no model pass)."""
        found = self.live.cached(self.holder.current, tickers)
        return self._response(found) if found is not None else None

    @staticmethod
    def _response(found: ForecastSet) -> PredictResponse:
        return PredictResponse(
            model_version=found.version,
            as_of=found.as_of,
            target_date=found.target_date,
            forecasts=[ForecastOut(**f.model_dump()) for f in found.forecasts.values()],
            skipped=[SkippedOut(ticker=t, reason=r) for t, r in found.skipped.items()],
            interval_calibration=found.interval_calibration,
        )

    def tickers(self) -> TickersOut:
        model = self._model()
        every = self.live.forecast(model, None)
        return TickersOut(model_version=model.production.version, tickers=sorted(every.forecasts))

    def model(self) -> ModelOut:
        model = self._model()
        name = self.settings.mlflow.model_name
        audit = self.database.run(lambda conn: promotion_history(conn, name, PROMOTIONS_SHOWN))
        production = model.production
        return ModelOut(
            name=name,
            version=production.version,
            run_id=production.run_id,
            dataset_id=production.dataset_id,
            tickers=len(self.live.forecast(model, None).forecasts),
            registered_at=datetime.fromtimestamp(production.created_at / 1000, UTC),
            loaded_at=model.loaded_at,
            test_metrics=model.test_metrics,
            promotions=[Promotion.model_validate(row) for row in audit],
            last_reload=self.holder.last_reload,
        )

    def latest_predictions(self) -> LatestPredictions:
        name = self.settings.mlflow.model_name
        rows = self.database.run(lambda conn: latest_predictions(conn, name))
        return LatestPredictions(
            target_date=rows[0]["target_date"] if rows else None,
            predictions=[StoredForecast.model_validate(row) for row in rows],
        )

    def ticker_history(self, ticker: str, days: int | None) -> TickerHistory:
        ticker = ticker.strip().upper()
        sessions = days or self.settings.serving.history_sessions
        name = self.settings.mlflow.model_name
        rows = self.database.run(lambda conn: ticker_predictions(conn, name, ticker, sessions))
        closes = self.database.run(lambda conn: recent_closes(conn, ticker, sessions))
        if not rows and not closes:
            raise UnknownTickerError(f"unknown ticker {ticker}: no prices or forecasts stored")
        return TickerHistory(
            ticker=ticker,
            predictions=[StoredForecast.model_validate(row) for row in rows],
            closes=[Close(date=day, close=close) for day, close in closes],
        )

    def performance(self, days: int | None) -> PerformanceOut:
        sessions = days or self.settings.serving.history_sessions
        # the service's own connection: with the database down, 503 at once like the others
        points = self.database.run(lambda conn: performance_history(conn, self.settings, sessions))
        return PerformanceOut(
            window_sessions=self.settings.monitoring.window_sessions,
            points=[
                PerformancePoint(
                    target_date=p.target_date,
                    samples=p.model.samples,
                    mape=p.model.mape,
                    direction_accuracy=p.model.direction_accuracy,
                    mase=p.model.mase,
                    persistence_mape=p.persistence.mape,
                    up_rate=p.model.up_rate,
                    rank_ic=p.model.rank_ic,
                    rank_ic_t=p.model.rank_ic_t,
                    ic_sessions=p.model.ic_sessions,
                    ic_sessions_offered=p.model.ic_sessions_offered,
                    not_judged=p.model.not_judged,
                    reversal_mase=_figure(p.baselines, "reversal", "mase"),
                    reversal_rank_ic=_figure(p.baselines, "reversal", "rank_ic"),
                    market_mase=_figure(p.baselines, "market", "mase"),
                    interval_coverage=p.intervals.coverage if p.intervals else None,
                    interval_nominal=p.intervals.nominal if p.intervals else None,
                    baseline_interval_coverage=(
                        p.intervals_baseline.coverage if p.intervals_baseline else None
                    ),
                )
                for p in points
            ],
        )

    def readiness(self) -> Readiness:
        model, database = self.holder.current, self.database.ping()
        last_reload = self.holder.last_reload
        reason = None
        if database != "ok":
            reason = f"the database does not answer: {database}"
        elif model is None and last_reload is not None and last_reload.error:
            reason = (
                f"production version {last_reload.version} could not be loaded: {last_reload.error}"
            )
        elif model is None:
            mlflow = self.settings.mlflow
            reason = (
                f"no production model yet: alias '{mlflow.production_alias}' of "
                f"'{mlflow.model_name}' points at no version (the first daily run bootstraps one)"
            )
        return Readiness(
            ready=reason is None,
            reason=reason,
            model_version=model.production.version if model else None,
            database=database,
            last_reload=last_reload,
        )

    def last_decision(self) -> dict[str, Any] | None:
        """The newest recorded daily decision (a daily run's last step), or None."""
        model_name = self.settings.mlflow.model_name
        found = self.database.run(lambda conn: decisions(conn, model_name, 1))
        return found[0] if found else None

    def _model(self) -> LoadedModel:
        model = self.holder.current
        if model is None:
            raise NoProductionModelError(
                "no production model to serve yet: run the daily or retraining pipeline"
            )
        return model


def _figure(baselines: dict[str, ForecastMetrics], name: str, metric: str) -> float | None:
    """A baseline's figure, None where the baseline or the figure is missing."""
    found = baselines.get(name)
    value = getattr(found, metric) if found is not None else None
    return None if value is None else float(value)
