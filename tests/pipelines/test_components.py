"""Every component on its own through kfp.local, in the order a bootstrap and the next day run
them: what each shows in the KFP UI (Metrics, Markdown) is what it computed and stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from components.build_dataset import build_dataset
from components.decide import decide
from components.evaluate import evaluate
from components.ingest import ingest
from components.init_database import init_database
from components.monitor import monitor
from components.predict import predict
from components.promote import promote
from components.resolve_production import resolve_production
from components.train_candidate import train_candidate
from components.tune import tune
from components.validate import validate

from tickcast.config import ModelParams, load_settings
from tickcast.db.connection import connect

pytestmark = pytest.mark.slow(seconds=40)
MIGRATIONS = Path(__file__).resolve().parents[2] / "src/tickcast/db/migrations"
DAY, NEXT_DAY = "2017-06-30", "2017-07-03"


def query(sql: str) -> list[tuple[Any, ...]]:
    with connect(load_settings().database.url or "") as conn:
        return conn.execute(sql).fetchall()


def metrics(task: Any) -> dict[str, float]:
    found: dict[str, float] = task.outputs["metrics"].metadata
    return found


def report(task: Any) -> str:
    return Path(task.outputs["report"].path).read_text()


def test_each_component_publishes_what_it_computed(environment: Path) -> None:
    assert init_database().output == len(list(MIGRATIONS.glob("*.sql")))

    ingested = ingest(as_of=DAY)
    assert ingested.outputs["Output"] == "succeeded"
    assert metrics(ingested)["rows_new"] == query("SELECT count(*) FROM raw_prices")[0][0] > 0
    assert metrics(ingested)["rows_rejected"] == 0

    checked = validate(as_of=DAY)
    assert checked.outputs["Output"] == metrics(checked)["healthy"] == 4
    assert "4 of 4 tickers healthy" in report(checked)

    dataset = build_dataset(as_of=DAY)
    dataset_id = dataset.outputs["Output"]
    [(panel_rows, source_end)] = query(
        f"SELECT panel_rows, source_end::text FROM datasets WHERE id = '{dataset_id}'"
    )
    assert report(dataset).startswith(f"# Dataset {dataset_id}") and source_end == DAY
    assert f"({panel_rows} rows)" in report(dataset)

    search = tune(dataset_id=dataset_id, trials=2)
    [(best_loss, best_params)] = query(
        "SELECT best_validation_loss, best_params FROM optimization_results"
    )
    assert metrics(search)["trials"] == 2 and metrics(search)["best_validation_loss"] == best_loss
    assert ModelParams.model_validate_json(search.outputs["Output"]) == ModelParams(**best_params)

    candidate = train_candidate(dataset_id=dataset_id, params=search.outputs["Output"])
    assert candidate.outputs["Output"] == 1
    test_mase = metrics(candidate)["test_mase"]
    assert metrics(candidate)["test_persistence_mase"] == 1.0

    verdict = evaluate(model_version=1)
    evaluated = metrics(verdict)
    assert evaluated["candidate_mase"] == pytest.approx(test_mase, rel=1e-9)  # the same test set
    assert evaluated["persistence_mase"] == 1.0
    assert not any(key.startswith("production_") for key in evaluated)  # none yet

    promoted = promote(evaluation=verdict.outputs["Output"])
    assert promoted.outputs["Output"] == "promoted"
    assert report(promoted).startswith("# Candidate v1: promoted")
    assert (
        f"| candidate | {evaluated['candidate_mase']:.4f} | {evaluated['candidate_mape']:.3f} |"
        in (report(promoted))
    )
    assert query("SELECT action, promoted FROM model_promotions") == [("promote", True)]
    production = resolve_production().output
    assert json.loads(production)["version"] == 1

    forecast = predict(as_of=DAY, production=production)
    assert forecast.outputs["Output"] == NEXT_DAY
    stored = query(
        "SELECT ticker, last_close, predicted_close, predicted_log_return FROM predictions"
        f" WHERE target_date = '{NEXT_DAY}' ORDER BY ticker"
    )
    assert len(stored) == 4
    for ticker, last, predicted, log_return in stored:
        assert f"| {ticker} | {last:.2f} | {predicted:.2f} | {log_return:+.5f} |" in report(
            forecast
        )

    ingest(as_of=NEXT_DAY)
    scores = monitor(as_of=NEXT_DAY, production=production)
    scored = metrics(scores)
    [(count, mean_abs_error)] = query("SELECT count(*), avg(abs_error) FROM model_performance_log")
    assert scored["scored"] == count == 4 and scored["rolling_samples"] == 4
    assert scored["rolling_mae"] == pytest.approx(mean_abs_error, rel=1e-9)
    assert json.loads(scores.outputs["Output"])["scored"] == 4

    decision = decide(as_of=NEXT_DAY, monitoring=scores.outputs["Output"])
    [(label, reasons)] = query("SELECT decision, reasons FROM retrain_decisions")
    assert decision.outputs["Output"] == label == "keep"
    assert report(decision) == f"# Decision as of {NEXT_DAY}: keep\n\n" + "".join(
        f"- {r['message']}\n" for r in reasons
    )
    assert {r["rule"] for r in reasons} <= {"min_scored_sessions", "within_thresholds"}
