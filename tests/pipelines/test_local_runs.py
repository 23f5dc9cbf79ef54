"""Both pipelines through kfp.local (SubprocessRunner in this venv) against real PostgreSQL and
MLflow: the retraining pipeline nested in the daily one, as a bootstrap day runs it (the components
one by one: test_components.py)."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from pipelines.compile import ROOT
from pipelines.daily import daily

from tests.integration.cli import run
from tickcast.config import load_settings
from tickcast.db.connection import connect
from tickcast.orchestration.dag import DAILY, RETRAINING
from tickcast.orchestration.local import run_local
from tickcast.orchestration.packages import PipelineArguments
from tickcast.orchestration.runner import run_daily
from tickcast.registry.aliases import production_version
from tickcast.registry.tracking import configure_mlflow

pytestmark = pytest.mark.slow(seconds=45)


def outputs(root: Path, task: str, name: str) -> list[Path]:
    """An output file (e.g. a Markdown report) of `task` in every run under `root`."""
    return sorted(root.glob(f"*/{task}/{name}"))


def metrics(root: Path, task: str) -> list[dict[str, float]]:
    """The Metrics artifact of `task` in every run (kfp.local keeps them in executor_output.json)."""
    found = []
    for path in outputs(root, task, "executor_output.json"):
        artifacts = json.loads(path.read_text())["artifacts"]["metrics"]["artifacts"]
        found.append(artifacts[0]["metadata"])
    return found


SESSIONS = [date(2017, 6, 30), date(2017, 7, 3), date(2017, 7, 5)]
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


def test_daily_bootstraps_then_keeps(
    environment: Path, second_database_url: str, tmp_path: Path
) -> None:
    # The first day runs the committed, compiled pipeline as loaded back from its YAML, the
    # retraining pipeline nested in it; run_local times each task and reads what it published.
    settings = load_settings()
    first = run_local(settings, "daily", PipelineArguments(as_of=SESSIONS[0], trials=0))
    tasks = {task.task.removesuffix("-2"): task for task in first.tasks}  # nested init-database
    assert set(tasks) == {step.function.replace("_", "-") for step in (*DAILY, *RETRAINING)}
    assert all(task.status == "SUCCESS" and task.seconds > 0 for task in first.tasks)
    assert first.seconds >= sum(task.seconds for task in first.tasks)
    assert production_version(configure_mlflow(settings), settings) == 1
    assert "retrain (bootstrap)" in (tasks["decide"].report or "")
    evaluated = tasks["evaluate"].metrics
    assert evaluated["persistence_mase"] == 1.0 and "candidate_mase" in evaluated
    verdict = tasks["promote"].report or ""
    assert verdict.startswith("# Candidate v1: promoted") and "| persistence | 1.0000 |" in verdict

    daily(as_of="2017-07-03", trials=0)  # the first forecasts: for Wednesday 5th (4th: holiday)
    # As a user would: scores them, forecasts the 6th, keeps the model.
    cli = run(
        "run",
        "daily",
        "--local",
        "--as-of",
        "2017-07-05",
        "--trials",
        "0",
        env={**os.environ, "COLUMNS": "200"},
        cwd=ROOT,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert "Decision as of 2017-07-05: keep" in cli.stdout
    assert "│ validate " in cli.stdout and "healthy 4" in cli.stdout  # the task table
    assert "Warning" not in cli.stdout + cli.stderr  # kfp.local's and MLflow's: not the user's
    reports = [p.read_text() for p in outputs(environment, "decide", "report")]
    assert any(r.startswith("# Decision as of 2017-07-05: keep") for r in reports)
    forecasts = [p.read_text() for p in outputs(environment, "predict", "report")]
    assert any("# Forecasts for 2017-07-05" in f and "SYN003" in f for f in forecasts)
    assert any("# Forecasts for 2017-07-06" in f for f in forecasts)
    monitored = metrics(environment, "monitor")
    assert [m["scored"] for m in monitored] == [0.0, 0.0, 4.0]
    assert monitored[-1]["rolling_samples"] == 4.0 and "persistence_mape" in monitored[-1]
    with connect(settings.database.url or "") as conn:
        rows = conn.execute(
            "SELECT as_of::text, decision FROM retrain_decisions ORDER BY as_of"
        ).fetchall()
        scored = conn.execute("SELECT count(*) FROM model_performance_log").fetchone()
    assert rows == [("2017-06-30", "retrain"), ("2017-07-03", "keep"), ("2017-07-05", "keep")]
    assert scored == (4,)

    # One DAG definition: the same sessions run in this process (as `tickcast daily --retrain`,
    # the simulation and the backtest run them) on a second store store the same rows.
    in_process = settings.with_overrides(
        {
            "database": {"url": second_database_url},
            "mlflow": {"tracking_uri": f"sqlite:///{tmp_path}/in-process-mlflow.db"},
            "artifacts": {"root": str(tmp_path / "in-process-artifacts")},
        }
    )
    for day in SESSIONS:
        run_daily(in_process, day, retrain_when_decided=True, search=False)
    through_kfp, in_this_process = stored(settings.database.url or ""), stored(second_database_url)
    assert {table: len(rows) for table, rows in through_kfp.items()} == {
        "forecasts": 8,  # 4 tickers for the 5th and the 6th
        "scores": 4,
        "decisions": 3,
        "promotions": 1,
        "datasets": 1,
    }
    for table, rows in through_kfp.items():
        assert in_this_process[table] == rows, f"{table} differ"
