"""One function per pipeline step: the in-process runner calls these, and so do the KFP
components, through `tickcast.orchestration.kfp_values`, which turns KFP's strings into these
typed inputs and a step's output back into a string or number.

Each takes the step's inputs as typed values, uses the settings it is given (in-process) or loads
them (config file + TICKCAST_* environment: a ConfigMap and a Secret on the cluster), runs the
step, publishes what a person looks at in the KFP UI (Metrics, Markdown) and returns an
`Outcome`: the value the next step reads and the full result that in-process callers keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from tickcast.config import Settings, load_settings

if TYPE_CHECKING:  # the step modules load lazily: a light step never imports a heavy one
    from tickcast.config import ModelParams
    from tickcast.data.ingest import IngestResult
    from tickcast.data.quality import QualityReport
    from tickcast.features.dataset_version import DatasetVersion
    from tickcast.ops.decide import RetrainDecision
    from tickcast.ops.evaluate import Evaluation
    from tickcast.ops.gc import GcReport
    from tickcast.ops.predict import PredictResult
    from tickcast.ops.promote import PromotionDecision
    from tickcast.ops.results import MonitorResult
    from tickcast.ops.train_candidate import CandidateResult
    from tickcast.ops.tune import TuneResult
    from tickcast.registry.production_model import ProductionModel

OutputT = TypeVar("OutputT")
ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class Outcome(Generic[OutputT, ResultT]):
    """What a step hands on (`output`, the KFP component's return value) and what it found."""

    output: OutputT
    result: ResultT


class MetricsOutput(Protocol):
    def log_metric(self, metric: str, value: float) -> None: ...


class FileOutput(Protocol):
    path: str


def _write(report: FileOutput, markdown: str) -> None:
    with open(report.path, "w") as file:  # noqa: PTH123 (KFP hands a path string)
        file.write(markdown)


def _log(metrics: MetricsOutput, values: dict[str, Any], prefix: str = "") -> None:
    for key, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            metrics.log_metric(f"{prefix}{key}", float(value))


def init_database(settings: Settings | None = None) -> Outcome[int, int]:
    from tickcast.db.migrate import init_database as run
    from tickcast.ops.stores import wait_for_stores

    settings = settings or load_settings()
    wait_for_stores(settings, settings.kfp.stores_wait_seconds)
    version = run(settings).current_version
    return Outcome(version, version)


def ingest(
    as_of: date | None, metrics: MetricsOutput, settings: Settings | None = None
) -> Outcome[str, IngestResult]:
    """`as_of` None: up to the latest completed session (so for every step)."""
    from tickcast.data.ingest import ingest_prices

    result = ingest_prices(settings or load_settings(), end=as_of)
    _log(
        metrics,
        {
            "rows_new": result.rows_new,
            "rows_updated": result.rows_updated,
            "rows_rejected": result.rows_rejected,
            "tickers_with_problems": len(result.problem_tickers),
        },
    )
    return Outcome(result.status, result)


def validate(
    as_of: date | None,
    metrics: MetricsOutput,
    report: FileOutput,
    settings: Settings | None = None,
) -> Outcome[int, QualityReport]:
    """The number of healthy tickers; fails the run when too few are (the report says why)."""
    from tickcast.data.quality import require_healthy
    from tickcast.ops.validate import validate_stored

    result = validate_stored(settings or load_settings(), as_of)
    _log(metrics, result.counts())
    _write(report, result.markdown())
    require_healthy(result)
    return Outcome(len(result.healthy), result)


def resolve_production(
    settings: Settings | None = None,
) -> Outcome[ProductionModel | None, ProductionModel | None]:
    """The production version's lineage, or None when there is none (bootstrap)."""
    from tickcast.ops.resolve_production import resolve_production as run

    production = run(settings or load_settings())
    return Outcome(production, production)


def predict(
    as_of: date | None,
    production: ProductionModel | None,
    report: FileOutput,
    settings: Settings | None = None,
) -> Outcome[date, PredictResult]:
    """Forecasts of the model `resolve_production` named; the output is their target date."""
    from tickcast.ops.predict import predict_with

    result = predict_with(settings or load_settings(), as_of, production)
    rows = [
        f"| {f.ticker} | {f.last_close:.2f} | {f.predicted_close:.2f} | {f.predicted_log_return:+.5f} |"
        for f in result.forecasts
    ]
    model = f"v{result.model.version}" if result.model else "none (bootstrap)"
    _write(
        report,
        "\n".join(
            [
                f"# Forecasts for {result.target_date}",
                "",
                f"Model: {model}",
                "",
                "| ticker | last close | predicted close | log return |",
                "| --- | ---: | ---: | ---: |",
                *rows,
                *(["", "Skipped (no fresh, complete window):", ""] if result.skipped else []),
                *(f"- {s.ticker}: {s.reason}" for s in result.skipped),
            ]
        )
        + "\n",
    )
    return Outcome(result.target_date, result)


def monitor(
    as_of: date | None,
    production: ProductionModel | None,
    metrics: MetricsOutput,
    settings: Settings | None = None,
) -> Outcome[MonitorResult, MonitorResult]:
    """Scores, rolling metrics and the drift of the model `resolve_production` named."""
    from tickcast.ops.monitor import monitor_model

    result = monitor_model(settings or load_settings(), as_of, production)
    _log(metrics, {"scored": result.scored, "window_sessions": result.window_sessions})
    if result.rolling and result.rolling_persistence:
        _log(metrics, result.rolling.model_dump(), "rolling_")
        _log(metrics, {"mape": result.rolling_persistence.mape}, "persistence_")
    if result.rolling_intervals and result.rolling_intervals_baseline:
        _log(metrics, result.rolling_intervals.as_dict(), "rolling_interval_")
        _log(metrics, result.rolling_intervals_baseline.as_dict(), "rolling_interval_baseline_")
    if result.max_psi is not None:
        metrics.log_metric("max_psi", result.max_psi)
    return Outcome(result, result)


def decide(
    as_of: date | None,
    monitoring: MonitorResult,
    report: FileOutput,
    settings: Settings | None = None,
) -> Outcome[str, RetrainDecision]:
    """ "retrain" or "keep" (the pipeline's dsl.If reads it)."""
    from tickcast.ops.decide import decide as run

    result = run(settings or load_settings(), as_of, monitoring)
    label = "retrain (bootstrap)" if result.bootstrap else result.decision
    _write(
        report,
        f"# Decision as of {result.as_of}: {label}\n\n"
        + "".join(f"- {r}\n" for r in result.reasons),
    )
    return Outcome(result.decision, result)


def gc(report: FileOutput, settings: Settings | None = None) -> Outcome[int, GcReport]:
    """Retention (tickcast gc) after the decision: the bytes it gave back (none when
    retention.enabled is false)."""
    from tickcast.ops.gc import GcReport, collect

    settings = settings or load_settings()
    result = collect(settings) if settings.retention.enabled else GcReport(dry_run=True)
    _write(
        report,
        "\n".join(
            [
                f"# Retention: {len(result.collected)} item(s), {result.bytes / 2**20:.1f} MiB",
                "",
                f"Kept whole: {', '.join(f'v{v}' for v in result.kept_versions) or 'none'}.",
                "",
                *(f"- {c.kind} {c.what} ({c.bytes / 2**20:.1f} MiB)" for c in result.collected),
            ]
        )
        + "\n",
    )
    return Outcome(result.bytes, result)


def build_dataset(
    as_of: date | None, report: FileOutput, settings: Settings | None = None
) -> Outcome[str, DatasetVersion]:
    """The dataset version's id (its content's hash)."""
    from tickcast.features.dataset import build_dataset as run

    version = run(settings or load_settings(), as_of)
    _write(report, version.report)
    return Outcome(version.id, version)


def tune(
    dataset_id: str, trials: int, metrics: MetricsOutput, settings: Settings | None = None
) -> Outcome[ModelParams | None, TuneResult | None]:
    """The best parameters (None when trials is 0: the candidate uses the configured ones)."""
    if trials <= 0:
        return Outcome(None, None)
    from tickcast.ops.tune import tune as run

    configured = (settings or load_settings()).with_overrides({"tuning": {"trials": trials}})
    result = run(configured, dataset_id)
    _log(
        metrics,
        {
            "best_validation_loss": result.best_validation_loss,
            "trials": len(result.trials),
            "seconds": result.seconds,
        },
    )
    return Outcome(result.best_params, result)


def train_candidate(
    dataset_id: str,
    params: ModelParams | None,
    metrics: MetricsOutput,
    settings: Settings | None = None,
) -> Outcome[int, CandidateResult]:
    """The registered candidate's version."""
    from tickcast.ops.train_candidate import train_candidate as run

    result = run(settings or load_settings(), dataset_id, params)
    _log(metrics, result.test.model_dump(), "test_")
    if result.best_iteration is not None:
        metrics.log_metric("best_iteration", float(result.best_iteration))
    _log(
        metrics,
        {"mase": result.test_persistence.mase, "mape": result.test_persistence.mape},
        "test_persistence_",
    )
    for name, found in result.test_baselines.items():
        _log(metrics, {"mase": found.mase, "rank_ic": found.rank_ic}, f"test_{name}_")
    if result.test_intervals and result.test_intervals_baseline:
        _log(metrics, result.test_intervals.as_dict(), "test_interval_")
        _log(metrics, result.test_intervals_baseline.as_dict(), "test_interval_baseline_")
    return Outcome(result.model_version, result)


def evaluate(
    model_version: int, metrics: MetricsOutput, settings: Settings | None = None
) -> Outcome[Evaluation, Evaluation]:
    from tickcast.ops.evaluate import evaluate as run

    evaluation = run(settings or load_settings(), model_version)
    _log(metrics, evaluation.candidate.model_dump(), "candidate_")
    if evaluation.production:
        _log(metrics, evaluation.production.model_dump(), "production_")
    _log(metrics, evaluation.persistence.model_dump(), "persistence_")
    for name, found in evaluation.baselines.items():
        _log(metrics, found.model_dump(), f"{name}_")
    if evaluation.candidate_intervals and evaluation.baseline_intervals:
        _log(metrics, evaluation.candidate_intervals.as_dict(), "candidate_interval_")
        if evaluation.production_intervals:
            _log(metrics, evaluation.production_intervals.as_dict(), "production_interval_")
        _log(metrics, evaluation.baseline_intervals.as_dict(), "baseline_interval_")
    return Outcome(evaluation, evaluation)


def promote(
    evaluation: Evaluation, report: FileOutput, settings: Settings | None = None
) -> Outcome[str, PromotionDecision]:
    """ "promoted" or "kept"; the verdict with the three-way comparison goes to the report."""
    from tickcast.ops.promote import promote as run

    decision = run(settings or load_settings(), evaluation)
    rows = [
        ("candidate", evaluation.candidate),
        (f"production v{evaluation.production_version}", evaluation.production),
        ("persistence", evaluation.persistence),
        *((f"{name} baseline", metrics) for name, metrics in evaluation.baselines.items()),
    ]
    table = [
        f"| {name} | {m.mase:.4f} | {m.mape:.3f} | {m.direction_accuracy:.3f} | "
        f"{m.rank_ic_text()} | {m.spread_text()} | {m.distinct_text()} |"
        for name, m in rows
        if m is not None
    ]
    verdict = "promoted" if decision.promoted else "kept"
    _write(
        report,
        "\n".join(
            [
                f"# Candidate v{evaluation.candidate_version}: {verdict}",
                "",
                decision.reason,
                "",
                "| model | MASE | MAPE % | direction | rank IC (t; sessions judged) "
                "| spread bp (net, t) | distinct forecasts a session |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
                *table,
            ]
        )
        + "\n",
    )
    return Outcome(verdict, decision)
