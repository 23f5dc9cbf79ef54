"""Both pipelines through kfp.local (SubprocessRunner in this venv) against real PostgreSQL and
MLflow, the retraining pipeline nested in the daily one as a bootstrap day runs it: what each task
shows in the KFP UI (its return value, Metrics, Markdown) is what it computed and stored, and the
same days run in this process store the same rows."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pipelines.compile import ROOT

from tests.integration.cli import run
from tests.stores import mlflow_store
from tickcast.config import ModelParams, load_settings
from tickcast.db.connection import connect
from tickcast.orchestration.dag import DAILY, RETRAINING
from tickcast.orchestration.local import TaskRun, run_local
from tickcast.orchestration.packages import PipelineArguments
from tickcast.orchestration.runner import run_daily
from tickcast.registry.aliases import production_version
from tickcast.registry.tracking import configure_mlflow

pytestmark = pytest.mark.slow(seconds=75)


def outputs(root: Path, task: str, name: str) -> list[Path]:
    """An output file (e.g. a Markdown report) of `task` in every run under `root`."""
    return sorted(root.glob(f"*/{task}/{name}"))


SESSIONS = [date(2017, 6, 30), date(2017, 7, 3), date(2017, 7, 5)]
MIGRATIONS = ROOT / "src/tickcast/db/migrations"
# What the daily and retraining pipelines store, less what differs by run: ids, times, MLflow runs.
STORED = {
    "forecasts": "SELECT target_date, ticker, model_name, model_version, dataset_id,"
    " predicted_log_return, predicted_close, last_close, last_close_date"
    " FROM predictions ORDER BY target_date, ticker, model_version",
    "scores": "SELECT target_date, ticker, model_name, model_version, actual_close,"
    " predicted_close, last_close, predicted_log_return, actual_log_return, abs_error, pct_error,"
    " direction_hit, persistence_abs_error FROM model_performance_log"
    " ORDER BY target_date, ticker, model_version",
    "decisions": "SELECT as_of, model_name, model_version, decision, bootstrap, reasons, metrics"
    " FROM retrain_decisions ORDER BY id",
    "promotions": "SELECT model_name, action, candidate_version, production_before,"
    " production_after, promoted, bootstrap, dataset_id, rule, metrics, reason"
    " FROM model_promotions ORDER BY id",
    "datasets": "SELECT id, content_sha256, tickers, source_end FROM datasets ORDER BY id",
}


def stored(url: str) -> dict[str, list[tuple[object, ...]]]:
    with connect(url) as conn:
        return {table: conn.execute(sql).fetchall() for table, sql in STORED.items()}


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with connect(url) as conn:
        return conn.execute(sql).fetchall()


def check_bootstrap(tasks: dict[str, TaskRun], url: str) -> None:
    """A bootstrap day: no model to forecast with, so retrain; every task publishes (its return
    value, Metrics, Markdown) what it computed and stored."""
    assert tasks["init-database"].output == len(list(MIGRATIONS.glob("*.sql")))
    assert tasks["ingest"].output == "succeeded"
    ingested = tasks["ingest"].metrics
    assert ingested["rows_new"] == query(url, "SELECT count(*) FROM raw_prices")[0][0] > 0
    assert ingested["rows_rejected"] == 0
    checked = tasks["validate"]
    assert checked.output == checked.metrics["healthy"] == 4
    assert "4 of 4 tickers healthy" in (checked.report or "")
    assert tasks["resolve-production"].output == ""  # none yet
    assert "Model: none (bootstrap)" in (tasks["predict"].report or "")
    assert tasks["monitor"].metrics["scored"] == 0
    assert tasks["decide"].output == "retrain"
    assert "retrain (bootstrap)" in (tasks["decide"].report or "")

    dataset = tasks["build-dataset"]
    [(panel_rows, source_end)] = query(
        url, f"SELECT panel_rows, source_end::text FROM datasets WHERE id = '{dataset.output}'"
    )
    assert (dataset.report or "").startswith(f"# Dataset {dataset.output}")
    assert source_end == "2017-06-30" and f"({panel_rows} rows)" in (dataset.report or "")
    search = tasks["tune"]
    [(best_loss, best_params)] = query(
        url, "SELECT best_validation_loss, best_params FROM optimization_results"
    )
    assert search.metrics["trials"] == 2 and search.metrics["best_validation_loss"] == best_loss
    assert ModelParams.model_validate_json(str(search.output)) == ModelParams(**best_params)
    candidate = tasks["train-candidate"]
    assert candidate.output == 1 and candidate.metrics["test_persistence_mase"] == 1.0
    evaluated = tasks["evaluate"].metrics
    assert evaluated["candidate_mase"] == pytest.approx(
        candidate.metrics["test_mase"], rel=1e-9
    )  # the same test set
    assert evaluated["persistence_mase"] == 1.0
    assert not any(key.startswith("production_") for key in evaluated)  # none yet
    promoted = tasks["promote"]
    verdict = promoted.report or ""
    assert promoted.output == "promoted" and verdict.startswith("# Candidate v1: promoted")
    assert (
        f"| candidate | {evaluated['candidate_mase']:.4f} | {evaluated['candidate_mape']:.3f} |"
        in verdict
    )
    assert "| persistence | 1.0000 |" in verdict
    assert query(url, "SELECT action, promoted FROM model_promotions") == [("promote", True)]


def check_scored_and_kept(tasks: dict[str, TaskRun], url: str) -> None:
    """The day after the first forecasts: scored next to persistence, forecasts for the next
    session from the model resolve-production named, the model kept."""
    production = tasks["resolve-production"].output
    assert json.loads(str(production))["version"] == 1
    forecast = tasks["predict"]
    assert forecast.output == "2017-07-06"
    stored_forecasts = query(
        url,
        "SELECT ticker, last_close, predicted_close, predicted_log_return FROM predictions"
        " WHERE target_date = '2017-07-06' ORDER BY ticker",
    )
    assert len(stored_forecasts) == 4
    for ticker, last, predicted, log_return in stored_forecasts:
        row = f"| {ticker} | {last:.2f} | {predicted:.2f} | {log_return:+.5f} |"
        assert row in (forecast.report or "")
    scored = tasks["monitor"].metrics
    [(count, mean_abs_error)] = query(
        url, "SELECT count(*), avg(abs_error) FROM model_performance_log"
    )
    assert scored["scored"] == count == 4 and scored["rolling_samples"] == 4
    assert scored["rolling_mae"] == pytest.approx(mean_abs_error, rel=1e-9)
    assert "persistence_mape" in scored
    assert json.loads(str(tasks["monitor"].output))["scored"] == 4
    [(label, reasons)] = query(
        url, "SELECT decision, reasons FROM retrain_decisions WHERE as_of = '2017-07-05'"
    )
    decided = tasks["decide"]
    assert decided.output == label == "keep"
    assert decided.report == "# Decision as of 2017-07-05: keep\n\n" + "".join(
        f"- {r['message']}\n" for r in reasons
    )
    assert {r["rule"] for r in reasons} <= {"min_scored_sessions", "within_thresholds"}


def test_daily_bootstraps_then_keeps(
    environment: Path, second_database_url: str, tmp_path: Path
) -> None:
    settings = load_settings()
    url = settings.database.url or ""
    # The first day runs the committed, compiled pipeline as loaded back from its YAML, the
    # retraining pipeline (with a search of 2 trials) nested in it.
    first = run_local(settings, "daily", PipelineArguments(as_of=SESSIONS[0], trials=2))
    tasks = {task.task.removesuffix("-2"): task for task in first.tasks}  # nested init-database
    assert set(tasks) == {step.function.replace("_", "-") for step in (*DAILY, *RETRAINING)}
    assert all(task.status == "SUCCESS" and task.seconds > 0 for task in first.tasks)
    assert first.seconds >= sum(task.seconds for task in first.tasks)
    assert production_version(configure_mlflow(settings), settings) == 1
    check_bootstrap(tasks, url)

    # As a user would: the first forecasts, for Wednesday 5th (4th: holiday).
    cli = run(
        *("run", "daily", "--local", "--as-of", "2017-07-03", "--trials", "0"),
        env={**os.environ, "COLUMNS": "200"},
        cwd=ROOT,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert "Decision as of 2017-07-03: keep" in cli.stdout
    assert "│ validate " in cli.stdout and "healthy 4" in cli.stdout  # the task table
    assert "Warning" not in cli.stdout + cli.stderr  # kfp.local's and MLflow's: not the user's
    forecasts = [p.read_text() for p in outputs(environment, "predict", "report")]
    assert any("# Forecasts for 2017-07-05" in f and "SYN003" in f for f in forecasts)

    third = run_local(settings, "daily", PipelineArguments(as_of=SESSIONS[2], trials=0))
    check_scored_and_kept({task.task: task for task in third.tasks}, url)
    rows = query(url, "SELECT as_of::text, decision FROM retrain_decisions ORDER BY as_of")
    assert rows == [("2017-06-30", "retrain"), ("2017-07-03", "keep"), ("2017-07-05", "keep")]

    # One DAG definition: the same sessions run in this process (as `tickcast daily --retrain`,
    # the simulation and the backtest run them) on a second store store the same rows.
    in_process = settings.with_overrides(
        {
            "database": {"url": second_database_url},
            "mlflow": {"tracking_uri": mlflow_store(tmp_path, "in-process-mlflow.db")},
            "artifacts": {"root": str(tmp_path / "in-process-artifacts")},
            "tuning": {"trials": 2},
        }
    )
    for day in SESSIONS:
        run_daily(in_process, day, retrain_when_decided=True, search=True)
    through_kfp, in_this_process = stored(url), stored(second_database_url)
    assert {table: len(rows) for table, rows in through_kfp.items()} == {
        "forecasts": 8,  # 4 tickers for the 5th and the 6th
        "scores": 4,
        "decisions": 3,
        "promotions": 1,
        "datasets": 1,
    }
    for table, rows in through_kfp.items():
        assert in_this_process[table] == rows, f"{table} differ"
