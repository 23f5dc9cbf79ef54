"""The daily run as one call: ingest -> validate -> predict -> monitor -> decide (-> retrain).

`simulate` replays it over consecutive sessions, ingesting one more day each time: the tested
helper behind the multi-day tests, the demo and backtests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pydantic import BaseModel

from tickcast.config import Settings
from tickcast.data.calendar import trading_calendar
from tickcast.data.ingest import IngestResult, ingest_prices
from tickcast.data.quality import QualityReport, check_stored_prices, require_healthy
from tickcast.ops.decide import RetrainDecision, decide
from tickcast.ops.monitor import monitor_model
from tickcast.ops.predict import PredictResult, predict_next_session
from tickcast.ops.results import MonitorResult
from tickcast.ops.retrain import RetrainResult, retrain


class DailyResult(BaseModel):
    as_of: date
    ingest: IngestResult | None
    quality: QualityReport
    prediction: PredictResult  # no forecasts (model None) until a production model exists
    monitoring: MonitorResult
    decision: RetrainDecision
    retraining: RetrainResult | None = None


def run_daily(
    settings: Settings,
    as_of: date | None = None,
    ingest: bool = True,
    retrain_when_decided: bool = False,
    search: bool = True,
) -> DailyResult:
    calendar = trading_calendar(settings.calendar.exchange, settings.calendar.first_session)
    as_of = as_of or calendar.latest_completed_session()
    ingested = ingest_prices(settings, end=as_of) if ingest else None
    quality = check_stored_prices(settings, as_of)
    require_healthy(quality)
    prediction = predict_next_session(settings, as_of)
    monitored = monitor_model(settings, as_of, prediction.model)
    decision = decide(settings, as_of, monitored)
    result = DailyResult(
        as_of=as_of,
        ingest=ingested,
        quality=quality,
        prediction=prediction,
        monitoring=monitored,
        decision=decision,
    )
    if retrain_when_decided and decision.decision == "retrain":
        result.retraining = retrain(settings, as_of, search=search)
    return result


def simulate(
    settings: Settings,
    sessions: list[date],
    retrain_when_decided: bool = False,
    search: bool = False,
    on_day: Callable[[DailyResult], None] | None = None,
) -> list[DailyResult]:
    """Run the daily flow on each session in order, as if each were today."""
    results = []
    for day in sessions:
        result = run_daily(settings, day, retrain_when_decided=retrain_when_decided, search=search)
        results.append(result)
        if on_day is not None:
            on_day(result)
    return results
