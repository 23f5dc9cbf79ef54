"""The pipelines run in this process: the steps of `tickcast.orchestration.dag`, in its order,
each fed what the KFP pipeline would feed it (parameters and earlier steps' outputs), each the same
`tickcast.orchestration.steps` function a component calls. Values pass as they are (a date, a
`ProductionModel`, a `MonitorResult`): strings and JSON are for the KFP boundary alone. Behind
`tickcast daily`, `tickcast retrain`, the multi-day simulation and the backtest; the full results
are kept for them.
"""

from __future__ import annotations

import inspect
import tempfile
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tickcast.config import Settings
from tickcast.data.ingest import IngestResult
from tickcast.data.quality import QualityReport
from tickcast.features.dataset_version import DatasetVersion
from tickcast.ops.decide import RetrainDecision
from tickcast.ops.predict import PredictResult
from tickcast.ops.promote import PromotionDecision
from tickcast.ops.results import MonitorResult
from tickcast.ops.train_candidate import CandidateResult
from tickcast.ops.tune import TuneResult
from tickcast.orchestration import steps as step_functions
from tickcast.orchestration.dag import (
    DAILY,
    LIVE_ONLY,
    RETRAIN_WHEN,
    RETRAINING,
    OutputOf,
    Parameter,
    Step,
)
from tickcast.orchestration.failures import alerted_failure


@dataclass
class RecordedMetrics:
    """Stands in for KFP's Metrics artifact."""

    values: dict[str, float] = field(default_factory=dict)

    def log_metric(self, metric: str, value: float) -> None:
        self.values[metric] = value


@dataclass(frozen=True)
class ReportFile:
    """Stands in for KFP's Markdown artifact: a path to write."""

    path: str


@dataclass(frozen=True)
class StepRun:
    function: str
    output: Any  # what the next steps read
    result: Any
    metrics: dict[str, float]
    report: str | None
    seconds: float


def run_steps(
    steps: tuple[Step, ...],
    parameters: Mapping[str, object],
    settings: Settings,
    skip: Collection[str] = (),
) -> dict[str, StepRun]:
    """Run `steps` in order (those in `skip` left out); a step's exception ends the run."""
    runs: dict[str, StepRun] = {}
    with tempfile.TemporaryDirectory(prefix="tickcast-steps-") as directory:
        for step in steps:
            if step.function in skip:
                continue
            function: Callable[..., step_functions.Outcome[Any, Any]] = getattr(
                step_functions, step.function
            )
            arguments: dict[str, Any] = {
                name: _value(source, parameters, runs, step) for name, source in step.inputs.items()
            }
            accepted = inspect.signature(function).parameters
            metrics = RecordedMetrics()
            report = Path(directory) / f"{step.function}.md"
            if "metrics" in accepted:
                arguments["metrics"] = metrics
            if "report" in accepted:
                arguments["report"] = ReportFile(str(report))
            started = time.perf_counter()
            outcome = function(**arguments, settings=settings)
            runs[step.function] = StepRun(
                function=step.function,
                output=outcome.output,
                result=outcome.result,
                metrics=metrics.values,
                report=report.read_text() if report.exists() else None,
                seconds=time.perf_counter() - started,
            )
    return runs


def _value(
    source: Parameter | OutputOf,
    parameters: Mapping[str, object],
    runs: Mapping[str, StepRun],
    step: Step,
) -> object:
    if isinstance(source, Parameter):
        return parameters[source.name]
    if source.step not in runs:
        raise ValueError(f"step {step.function!r} needs the output of {source.step!r}, left out")
    return runs[source.step].output


class RetrainResult(BaseModel):
    dataset: DatasetVersion
    search: TuneResult | None
    candidate: CandidateResult
    promotion: PromotionDecision


class DailyResult(BaseModel):
    as_of: date
    ingest: IngestResult | None
    quality: QualityReport
    prediction: PredictResult  # no forecasts (model None) until a production model exists
    monitoring: MonitorResult
    decision: RetrainDecision
    retraining: RetrainResult | None = None
    retention_bytes: int | None = None  # what the retention step gave back (None: not run)


def _parameters(settings: Settings, as_of: date | None, search: bool) -> dict[str, object]:
    """None as_of: the latest completed session."""
    return {"as_of": as_of, "trials": settings.tuning.trials if search else 0}


def retrain(settings: Settings, as_of: date | None = None, search: bool = True) -> RetrainResult:
    """The retraining pipeline: dataset -> (search) -> candidate -> evaluation -> promotion."""
    runs = run_steps(RETRAINING, _parameters(settings, as_of, search), settings)
    return RetrainResult(
        dataset=runs["build_dataset"].result,
        search=runs["tune"].result,
        candidate=runs["train_candidate"].result,
        promotion=runs["promote"].result,
    )


def run_daily(
    settings: Settings,
    as_of: date | None = None,
    ingest: bool = True,
    retrain_when_decided: bool = False,
    search: bool = True,
) -> DailyResult:
    """The daily pipeline: ingest -> validate -> predict -> monitor -> decide -> retention (->
    retraining when `retrain_when_decided` and the decision says so). `ingest=False` leaves the
    ingest step out and retention with it (the backtest ingests once for every policy, and a
    replay of history collects nothing)."""
    parameters = _parameters(settings, as_of, search)
    skip = () if ingest else ("ingest", *LIVE_ONLY)
    with alerted_failure(settings, as_of):
        runs = run_steps(DAILY, parameters, settings, skip=skip)
    decision: RetrainDecision = runs["decide"].result
    result = DailyResult(
        as_of=decision.as_of,
        ingest=runs["ingest"].result if "ingest" in runs else None,
        quality=runs["validate"].result,
        prediction=runs["predict"].result,
        monitoring=runs["monitor"].result,
        decision=decision,
        retention_bytes=runs["gc"].output if "gc" in runs else None,
    )
    if retrain_when_decided and runs[RETRAIN_WHEN.step].output == RETRAIN_WHEN.equals:
        result.retraining = retrain(settings, as_of, search=search)
    return result


def simulate(
    settings: Settings,
    sessions: list[date],
    retrain_when_decided: bool = False,
    search: bool = False,
    on_day: Callable[[DailyResult], None] | None = None,
) -> list[DailyResult]:
    """Run the daily pipeline on each session in order, as if each were today."""
    results = []
    for day in sessions:
        result = run_daily(settings, day, retrain_when_decided=retrain_when_decided, search=search)
        results.append(result)
        if on_day is not None:
            on_day(result)
    return results
