"""Training and registry commands: train, evaluate, promote, retrain, and `model …` by hand.

torch and MLflow are imported inside the commands, so other commands start fast.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import typer
from rich.text import Text

from tickcast.cli.context import console, handled_errors, state
from tickcast.cli.tables import Column, fitted_table
from tickcast.config import Settings
from tickcast.db.connection import open_connection
from tickcast.db.datasets import list_datasets
from tickcast.features.dataset import DatasetNotFoundError

if TYPE_CHECKING:
    from tickcast.models.intervals import IntervalMetrics
    from tickcast.ops.evaluate import Evaluation
    from tickcast.ops.promote import PromotionDecision
    from tickcast.ops.train_candidate import CandidateResult
    from tickcast.ops.tune import TuneResult as SearchResult

# A registered model version: MLflow's are positive and stored as PostgreSQL integers.
VERSION_ARGUMENT = typer.Argument(
    ..., min=1, max=2**31 - 1, help="Registered model version.", show_default=False
)

model_app = typer.Typer(help="Operate the model registry by hand.", no_args_is_help=True)


def train(
    dataset: str | None = typer.Option(None, help="Dataset id (default: the newest version)."),
    family: str | None = typer.Option(
        None,
        "--family",
        "--architecture",  # its old name, still accepted
        help="The model family: lstm | lstm_attention | lstm_cross_stock | ridge | lightgbm, or "
        "one another installed package registers.",
    ),
    epochs: int | None = typer.Option(None, help="Maximum epochs (default: training.max_epochs)."),
) -> None:
    """Train a candidate on a dataset version, log it to MLflow and register a new version."""
    from tickcast.ops.train_candidate import train_candidate

    with handled_errors():
        settings = _with_training(state.settings(), family, epochs)
        result = train_candidate(settings, dataset or _newest_dataset(settings), show_progress=True)
    _print_candidate(result)


def tune(
    dataset: str | None = typer.Option(None, help="Dataset id (default: the newest version)."),
    backend: str | None = typer.Option(None, help="ray | optuna (default: tuning.backend)."),
    trials: int | None = typer.Option(None, help="Number of trials (default: tuning.trials)."),
) -> None:
    """Search hyperparameters on a dataset version; the best become the next candidate's."""
    from tickcast.ops.tune import tune as run_tune

    with handled_errors():
        settings = _with_tuning(state.settings(), backend, trials)
        with console.status(
            f"searching: {settings.tuning.trials} trials with {settings.tuning.backend}"
        ):
            result = run_tune(settings, dataset or _newest_dataset(settings))
    _print_search(result)


def evaluate(version: int = VERSION_ARGUMENT) -> None:
    """Compare a version with production and persistence on its dataset's test window."""
    from tickcast.ops.evaluate import evaluate as run_evaluate

    with handled_errors():
        evaluation = run_evaluate(state.settings(), version)
    _print_evaluation(evaluation)


def promote(version: int = VERSION_ARGUMENT) -> None:
    """Evaluate a candidate and move the production alias if it wins by the promotion rule."""
    from tickcast.ops.evaluate import evaluate as run_evaluate
    from tickcast.ops.promote import promote as run_promote

    with handled_errors():
        settings = state.settings()
        decision = run_promote(settings, run_evaluate(settings, version))
    _print_decision(decision)


def retrain(
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Data up to this session."
    ),
    epochs: int | None = typer.Option(None, help="Maximum epochs (default: training.max_epochs)."),
    trials: int | None = typer.Option(
        None, help="Search trials (default: tuning.trials); 0 skips the search."
    ),
    backend: str | None = typer.Option(None, help="ray | optuna (default: tuning.backend)."),
) -> None:
    """Build a dataset, search hyperparameters, train a candidate, evaluate and maybe promote it."""
    from tickcast.orchestration.runner import retrain as run_retrain

    with handled_errors():
        settings = _with_tuning(
            _with_training(state.settings(), None, epochs), backend, trials or None
        )
        with console.status("retraining: dataset, search, candidate, evaluation, promotion"):
            result = run_retrain(settings, as_of.date() if as_of else None, search=trials != 0)
    dataset = result.dataset
    console.print(
        f"dataset {dataset.id}: {len(dataset.tickers)} tickers, {dataset.source_start} .. {dataset.source_end}"
    )
    if result.search is not None:
        _print_search(result.search)
    _print_candidate(result.candidate)
    _print_decision(result.promotion)


@model_app.command("list")
def model_list() -> None:
    """Registered versions with their test metrics; * marks the production version."""
    from tickcast.models.metrics import rank_ic_text
    from tickcast.registry.catalog import list_versions

    with handled_errors():
        settings = state.settings()
        rows = list_versions(settings)
    columns = [
        Column("version"),
        Column("dataset", 2),
        Column("family", 1),
        Column("test MASE", justify="right"),
        Column("test MAPE %", 3, "right"),
        Column("direction", 1, "right"),
        Column("up rate", 1, "right"),
        Column("rank IC (t)", justify="right"),
        Column("reversal MASE, rank IC", justify="right"),
        Column("market MASE", justify="right"),
        Column("promotion", 2),
    ]
    table = fitted_table(
        console,
        columns,
        (
            [
                f"{'*' if row['production'] else ' '} v{row['version']}",
                str(row["dataset_id"]),
                str(row["family"]),
                _number(row["test_mase"]),
                _number(row["test_mape"]),
                _number(row["test_direction_accuracy"]),
                _number(row["test_up_rate"]),
                rank_ic_text(
                    row["test_rank_ic"],
                    row["test_rank_ic_t"],
                    _count(row["test_ic_sessions"]),
                    _count(row["test_ic_sessions_offered"]),
                    row["test_not_judged"],
                ),
                _pair(row["test_reversal_mase"], row["test_reversal_rank_ic"]),
                _number(row["test_market_mase"]),
                str(row["promotion"]),
            ]
            for row in rows
        ),
        title="registered versions",
        caption=f"* production (the {settings.mlflow.production_alias!r} alias); metrics on "
        "each version's own test split; direction next to the up-day rate of the same rows; "
        "rank IC: mean per-session Spearman correlation across tickers, t its Newey-West "
        "t-statistic, on the sessions judged out of those offered; the one-line baselines "
        "fitted with each version, on the same rows",
    )
    console.print(table)


@model_app.command("show")
def model_show(version: int = VERSION_ARGUMENT) -> None:
    """A version's params, metrics, tags and audit trail."""
    from tickcast.registry.catalog import version_details

    with handled_errors():
        details = version_details(state.settings(), version)
    console.print_json(json.dumps(details, default=str))


@model_app.command("promote")
def model_promote(
    version: int = VERSION_ARGUMENT,
    reason: str = typer.Option("manual promotion", help="Recorded in the audit table."),
) -> None:
    """Point the production alias at VERSION without evaluating (audited)."""
    from tickcast.ops.promote import promote_manually

    with handled_errors():
        decision = promote_manually(state.settings(), version, reason)
    _print_decision(decision)


@model_app.command("rollback")
def model_rollback() -> None:
    """Move the production alias back to the version it replaced (audited)."""
    from tickcast.ops.promote import rollback

    with handled_errors():
        decision = rollback(state.settings())
    _print_decision(decision)


def _with_training(settings: Settings, family: str | None, epochs: int | None) -> Settings:
    changes: dict[str, object] = {}
    if family:
        changes["params"] = {"family": family}
    if epochs:
        changes["max_epochs"] = epochs
    return settings.with_overrides({"training": changes}) if changes else settings


def _with_tuning(settings: Settings, backend: str | None, trials: int | None) -> Settings:
    changes: dict[str, object] = {}
    if backend:
        changes["backend"] = backend
    if trials:
        changes["trials"] = trials
    return settings.with_overrides({"tuning": changes}) if changes else settings


def _print_search(result: SearchResult) -> None:
    columns = [
        Column("trial", justify="right"),
        Column("state", 2),
        Column("epochs", 2, "right"),
        Column("best val loss", justify="right"),
        Column("family"),
        Column("hidden", 1, "right"),
        Column("layers", 1, "right"),
        Column("dropout", 1, "right"),
        Column("lr", 1, "right"),
        Column("batch", 1, "right"),
    ]
    trials = sorted(
        result.trials, key=lambda t: (t.validation_loss is None, t.validation_loss or 0)
    )
    rows = [
        [
            str(trial.number),
            trial.state,
            str(trial.epochs),
            _number(trial.validation_loss),
            trial.params.family,
            str(trial.params.hidden_size),
            str(trial.params.num_layers),
            f"{trial.params.dropout:.2f}",
            f"{trial.params.learning_rate:.1e}",
            str(trial.params.batch_size),
        ]
        for trial in trials
    ]
    title = f"search on {result.dataset_id}: {len(result.trials)} trials with {result.backend} in {result.seconds:.0f}s"
    console.print(fitted_table(console, columns, rows, title=title))


def _newest_dataset(settings: Settings) -> str:
    with open_connection(settings) as conn:
        newest = list_datasets(conn, limit=1)
    if not newest:
        raise DatasetNotFoundError("no dataset version yet: run `tickcast dataset build`")
    return str(newest[0]["id"])


def _print_candidate(result: CandidateResult) -> None:
    kept = (
        f"best epoch {result.best_epoch}"
        if result.best_iteration is None
        else f"best iteration {result.best_iteration} of up to {result.params.n_estimators}"
    )
    console.print(
        f"registered {result.model_name} v{result.model_version} (run {result.run_id}, {kept}; "
        f"calibrated on validation: x {result.calibration.cross_section:.3f} "
        f"across tickers, x {result.calibration.market:.3f} for the session mean)\n"
        f"test: MASE {result.test.mase:.4f}, MAPE {result.test.mape:.3f}%, direction "
        f"{result.test.direction_accuracy:.3f} vs up-day rate {result.test.up_rate:.3f}, "
        f"rank IC {result.test.rank_ic_text()}, {result.test.distinct_text()} distinct forecasts "
        f"a session (median); persistence MAPE {result.test_persistence.mape:.3f}%"
    )
    for name, metrics in result.test_baselines.items():
        console.print(
            f"test, {name} baseline: MASE {metrics.mase:.4f}, rank IC {metrics.rank_ic_text()}"
        )
    _print_intervals("test", result.test_intervals, result.test_intervals_baseline)


def _print_intervals(
    whose: str, band: IntervalMetrics | None, baseline: IntervalMetrics | None
) -> None:
    """The central interval's coverage (Kupiec p), width and pinball loss next to the baseline's."""
    if band is None or baseline is None or band.coverage is None or baseline.coverage is None:
        return
    console.print(
        f"{whose} {band.nominal:.0%} interval: coverage {band.coverage_text()}, width "
        f"{band.width_pct:.2f}% of close, pinball {band.pinball:.1f} bp; volatility baseline: "
        f"coverage {baseline.coverage_text()}, width {baseline.width_pct:.2f}%, pinball "
        f"{baseline.pinball:.1f} bp; coverage by volatility tercile (low / mid / high) "
        f"{band.tercile_text()}, baseline {baseline.tercile_text()}"
    )


def _print_evaluation(evaluation: Evaluation) -> None:
    columns = [
        Column("model"),
        Column("MASE", justify="right"),
        Column("MAE", 2, "right"),
        Column("RMSE", 2, "right"),
        Column("MAPE %", 1, "right"),
        Column("direction", justify="right"),
        Column("up rate", justify="right"),
        Column("rank IC (t)", justify="right"),
        Column("spread bp", 1, "right"),
    ]
    named = [
        ("candidate", evaluation.candidate),
        (f"production v{evaluation.production_version}", evaluation.production),
        ("persistence", evaluation.persistence),
        *((f"{name} baseline", metrics) for name, metrics in evaluation.baselines.items()),
    ]
    keys = ("mase", "mae", "rmse", "mape", "direction_accuracy", "up_rate")
    rows = [
        [
            name,
            *(_number(getattr(metrics, key)) for key in keys),
            metrics.rank_ic_text(),
            metrics.spread_text(),
        ]
        for name, metrics in named
        if metrics is not None
    ]
    title = (
        f"v{evaluation.candidate_version} on {evaluation.dataset_id} test "
        f"{evaluation.first_anchor} .. {evaluation.last_anchor} ({len(evaluation.tickers)} tickers)"
    )
    caption = (
        "rank IC: mean per-session Spearman correlation of forecast and realised returns "
        "across tickers (t: Newey-West; the sessions judged out of those offered); spread: top "
        "minus bottom forecast quintile, bp a day, net of evaluation.cost_bps"
    )
    console.print(fitted_table(console, columns, rows, title=title, caption=caption))
    for other, test in (
        ("production", evaluation.paired_test),
        ("the baseline promotion.must_beat_baseline names", evaluation.baseline_paired_test),
    ):
        if test is not None:
            console.print(
                f"candidate vs {other}, {test.method.replace('_', ' ')} over {test.sessions} "
                f"sessions: statistic {test.statistic:+.2f} (positive: candidate better), "
                f"one-sided p = {test.p_value:.3g}"
            )
    _print_intervals("candidate's", evaluation.candidate_intervals, evaluation.baseline_intervals)
    _print_intervals(
        f"production v{evaluation.production_version}'s",
        evaluation.production_intervals,
        evaluation.baseline_intervals,
    )
    if evaluation.production_error:
        console.print(evaluation.production_error, style="yellow")


def _print_decision(decision: PromotionDecision) -> None:
    if decision.evaluation is not None:
        _print_evaluation(decision.evaluation)
    verdict = Text("promoted", "green") if decision.promoted else Text("not promoted", "yellow")
    if decision.bootstrap:
        verdict.append(" (bootstrap)")
    console.print(Text.assemble(verdict, f": {decision.reason}"))
    console.print(
        f"production: {_version(decision.production_before)} -> {_version(decision.production_after)}"
    )


def _version(version: int | None) -> str:
    return "none" if version is None else f"v{version}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _pair(mase: float | None, rank_ic: float | None) -> str:
    if mase is None:
        return ""
    return f"{mase:.4f}, " + ("-" if rank_ic is None else f"{rank_ic:.3f}")


def _count(value: float | None) -> int | None:
    return None if value is None else int(value)
