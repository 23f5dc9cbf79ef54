"""`tickcast backtest`: retraining policies side by side on the same historical sessions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tickcast.cli.context import console, handled_errors, sessions_progress, state
from tickcast.cli.tables import Column, fitted_table

if TYPE_CHECKING:
    from rich.table import Table

    from tickcast.orchestration.backtest import BacktestResult


def backtest(
    start: datetime = typer.Option(..., "--start", formats=["%Y-%m-%d"], help="Bootstrap session."),
    end: datetime = typer.Option(..., "--end", formats=["%Y-%m-%d"], help="Last session replayed."),
    schedule_sessions: int = typer.Option(
        20, min=1, help="The fixed-schedule policy retrains every this many sessions."
    ),
    search: bool = typer.Option(False, help="Search hyperparameters at every retrain (slow)."),
    trials: int | None = typer.Option(
        None, min=1, help="Search budget per retrain (default: tuning.trials); implies --search."
    ),
    epochs: int | None = typer.Option(
        None, min=1, help="Training epochs (default: training.max_epochs)."
    ),
    policy_files: list[Path] = typer.Option(
        [],
        "--policy",
        help="A YAML file of decision/promotion/monitoring/training/tuning settings: one "
        "continuous policy named after the file, instead of the configured rules (repeatable).",
    ),
    baselines: bool = typer.Option(
        True, help="Also replay the train-once and fixed-schedule policies (persistence always)."
    ),
) -> None:
    """Walk forward through history: continuous training, train once, fixed schedule, persistence."""
    from tickcast.config import ConfigError, apply_policy
    from tickcast.data.calendar import configured_calendar
    from tickcast.orchestration.backtest import backtest as run_backtest

    if start > end:
        raise typer.BadParameter(
            f"{start:%Y-%m-%d} is after --end {end:%Y-%m-%d}", param_hint="--start"
        )
    with handled_errors():
        settings = state.settings()
        if epochs is not None:
            settings = settings.with_overrides({"training": {"max_epochs": epochs}})
        if trials is not None:
            settings = settings.with_overrides({"tuning": {"trials": trials}})
        continuous = {
            f"continuous-{path.stem}": apply_policy(settings, path) for path in policy_files
        }
        if len(continuous) < len(policy_files):
            raise ConfigError("--policy files must have different names (a policy is its stem)")
        calendar = configured_calendar(settings)
        days = len(calendar.sessions_between(start.date(), end.date()))
        with sessions_progress() as progress:
            task = progress.add_task("sessions replayed", total=max(days - 1, 1))
            result = run_backtest(
                settings,
                start.date(),
                end.date(),
                schedule_sessions,
                search or trials is not None,
                on_day=lambda _day: progress.advance(task),
                baselines=baselines,
                continuous=continuous or None,
            )
    console.print(_results_table(result))
    console.print(_regimes_table(result))
    for policy in result.policies:
        if policy.triggers:
            console.print(f"{policy.policy} retrained for: {policy.describe_triggers()}")
    console.print(f"report: {result.report_uri} (MLflow run {result.mlflow_run_id})")


def _regimes_table(result: BacktestResult) -> Table:
    """Each row's MASE, rank IC and coverage on the calm and the turbulent sessions alone."""
    columns = [Column("policy")]
    for regime in ("calm", "turbulent"):
        columns += [
            Column(f"{regime} sessions", 1, "right"),
            Column("MASE", justify="right"),
            Column("rank IC (t)", justify="right"),
            Column("cover", 2, "right"),
        ]
    rows = [
        [
            policy.policy,
            *(cell for regime in ("calm", "turbulent") for cell in policy.regimes[regime].values()),
        ]
        for policy in result.policies
        if policy.regimes
    ]
    return fitted_table(
        console,
        columns,
        rows,
        title="calm and turbulent sessions",
        caption="turbulent: the market's 20-session realised volatility above twice its "
        "250-session median",
    )


def _results_table(result: BacktestResult) -> Table:
    """Each policy's pooled metrics, intervals, retrains and cost: one row per policy."""
    columns = [
        Column("policy"),
        Column("MAPE%", 2, "right"),
        Column("RMSE", 3, "right"),
        Column("dir", justify="right"),
        Column("up", justify="right"),
        Column("MASE", justify="right"),
        Column("rank IC (t)", justify="right"),
        Column("spread", 2, "right"),
        Column("cover (p)", 2, "right"),
        Column("width%", 2, "right"),
        Column("retr", 1, "right"),
        Column("prom", 1, "right"),
        Column("sec", 2, "right"),
    ]
    rows = [
        [
            policy.policy,
            f"{m.mape:.3f}",
            f"{m.rmse:.3f}",
            f"{m.direction_accuracy:.3f}",
            f"{m.up_rate:.3f}",
            f"{m.mase:.3f}",
            m.rank_ic_text(),
            m.spread_text(),
            policy.coverage_text(),
            policy.width_text(),
            str(policy.retrains),
            str(policy.promotions),
            f"{policy.seconds:.0f}",
        ]
        for policy in result.policies
        if (m := policy.metrics) is not None
    ]
    return fitted_table(
        console,
        columns,
        rows,
        title=f"walk-forward backtest {result.start} to {result.end}, {result.tickers} tickers",
        caption="dir: direction accuracy, up: up-day rate of the same rows, rank IC: mean "
        "per-session Spearman correlation across tickers (Newey-West t; sessions judged of "
        "those offered), spread: top minus bottom "
        "quintile, bp a day net of costs, cover: the central interval's coverage (Kupiec p; "
        "persistence: the volatility baseline's), width: its mean width in % of the close, "
        "retr/prom: retrains/promotions after the bootstrap, "
        "sec: compute seconds",
    )
