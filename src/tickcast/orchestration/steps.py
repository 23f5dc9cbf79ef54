"""One function per pipeline step, called unchanged by the KFP components.

Each reads the settings (config file + TICKCAST_* environment, a ConfigMap and a Secret on the
cluster), calls the step function, publishes what a person looks at in the KFP UI (Metrics,
Markdown) and returns small values the next step needs (ids, verdicts).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from tickcast.config import load_settings


class MetricsOutput(Protocol):
    def log_metric(self, metric: str, value: float) -> None: ...


class FileOutput(Protocol):
    path: str


def _as_of(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _write(report: FileOutput, markdown: str) -> None:
    with open(report.path, "w") as file:  # noqa: PTH123 (KFP hands a path string)
        file.write(markdown)


def _log(metrics: MetricsOutput, values: dict[str, Any], prefix: str = "") -> None:
    for key, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            metrics.log_metric(f"{prefix}{key}", float(value))


def init_database() -> int:
    from tickcast.db.migrate import init_database as run

    return run(load_settings()).current_version


def ingest(as_of: str, metrics: MetricsOutput) -> str:
    from tickcast.data.ingest import ingest_prices

    result = ingest_prices(load_settings(), end=_as_of(as_of))
    _log(
        metrics,
        {
            "rows_new": result.rows_new,
            "rows_updated": result.rows_updated,
            "rows_rejected": result.rows_rejected,
            "tickers_with_problems": len(result.problem_tickers),
        },
    )
    return result.status


def validate(as_of: str, metrics: MetricsOutput, report: FileOutput) -> int:
    """The number of healthy tickers; fails the run when too few are (the report says why)."""
    from tickcast.data.quality import check_stored_prices, require_healthy

    result = check_stored_prices(load_settings(), _as_of(as_of))
    _log(metrics, result.counts())
    _write(report, result.markdown())
    require_healthy(result)
    return len(result.healthy)


def resolve_production() -> str:
    """The production version, or "bootstrap" when there is none."""
    from tickcast.ops.resolve_production import resolve_production as run

    production = run(load_settings())
    return str(production.version) if production else "bootstrap"


def predict(as_of: str, report: FileOutput) -> str:
    from tickcast.ops.predict import predict_next_session

    result = predict_next_session(load_settings(), _as_of(as_of))
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
    return result.target_date.isoformat()


def monitor(as_of: str, metrics: MetricsOutput) -> str:
    from tickcast.ops.monitor import monitor as run

    result = run(load_settings(), _as_of(as_of))
    _log(metrics, {"scored": result.scored, "window_sessions": result.window_sessions})
    if result.rolling and result.rolling_persistence:
        _log(metrics, result.rolling.model_dump(), "rolling_")
        _log(metrics, {"mape": result.rolling_persistence.mape}, "persistence_")
    if result.max_psi is not None:
        metrics.log_metric("max_psi", result.max_psi)
    return result.model_dump_json()


def decide(as_of: str, monitoring: str, report: FileOutput) -> str:
    """ "retrain" or "keep" (the pipeline's dsl.If reads it)."""
    from tickcast.ops.decide import decide as run
    from tickcast.ops.results import MonitorResult

    result = run(load_settings(), _as_of(as_of), MonitorResult.model_validate_json(monitoring))
    label = "retrain (bootstrap)" if result.bootstrap else result.decision
    _write(
        report,
        f"# Decision as of {result.as_of}: {label}\n\n"
        + "".join(f"- {r}\n" for r in result.reasons),
    )
    return result.decision


def build_dataset(as_of: str, report: FileOutput) -> str:
    from tickcast.features.dataset import build_dataset as run

    version = run(load_settings(), _as_of(as_of))
    _write(report, version.report)
    return version.id


def tune(dataset_id: str, trials: int, metrics: MetricsOutput) -> str:
    """The best parameters as JSON ("" when trials is 0: the candidate uses the defaults)."""
    if trials <= 0:
        return ""
    from tickcast.ops.tune import tune_hyperparameters

    settings = load_settings()
    settings = settings.with_overrides({"tuning": {"trials": trials}})
    result = tune_hyperparameters(settings, dataset_id)
    _log(
        metrics,
        {
            "best_validation_loss": result.best_validation_loss,
            "trials": len(result.trials),
            "seconds": result.seconds,
        },
    )
    return result.best_params.model_dump_json()


def train_candidate(dataset_id: str, params: str, metrics: MetricsOutput) -> int:
    from tickcast.config import ModelParams
    from tickcast.ops.train_candidate import train_candidate as run

    result = run(
        load_settings(), dataset_id, ModelParams.model_validate_json(params) if params else None
    )
    _log(metrics, result.test.model_dump(), "test_")
    _log(
        metrics,
        {"mase": result.test_persistence.mase, "mape": result.test_persistence.mape},
        "test_persistence_",
    )
    return result.model_version


def evaluate(model_version: int, metrics: MetricsOutput) -> str:
    from tickcast.ops.evaluate import evaluate_candidate

    evaluation = evaluate_candidate(load_settings(), model_version)
    _log(metrics, evaluation.candidate.model_dump(), "candidate_")
    if evaluation.production:
        _log(metrics, evaluation.production.model_dump(), "production_")
    _log(metrics, evaluation.persistence.model_dump(), "persistence_")
    return evaluation.model_dump_json()


def promote(evaluation: str, report: FileOutput) -> str:
    """ "promoted" or "kept"; the verdict with the three-way comparison goes to the report."""
    from tickcast.ops.evaluate import Evaluation
    from tickcast.ops.promote import promote_candidate

    parsed = Evaluation.model_validate_json(evaluation)
    decision = promote_candidate(load_settings(), parsed)
    rows = [
        ("candidate", parsed.candidate),
        (f"production v{parsed.production_version}", parsed.production),
        ("persistence", parsed.persistence),
    ]
    table = [
        f"| {name} | {m.mase:.4f} | {m.mape:.3f} | {m.direction_accuracy:.3f} | "
        f"{m.rank_ic_text()} | {m.spread_text()} |"
        for name, m in rows
        if m is not None
    ]
    verdict = "promoted" if decision.promoted else "kept"
    _write(
        report,
        "\n".join(
            [
                f"# Candidate v{parsed.candidate_version}: {verdict}",
                "",
                decision.reason,
                "",
                "| model | MASE | MAPE % | direction | rank IC (t) | spread bp (net) |",
                "| --- | ---: | ---: | ---: | ---: | ---: |",
                *table,
            ]
        )
        + "\n",
    )
    return verdict
