"""Retraining end to end on a stocknet subset: dataset -> candidate -> registry -> promotion."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pytest

from tests.conftest import copy_stocknet
from tests.stores import mlflow_store
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.db.connection import connect
from tickcast.db.promotions import promotion_history
from tickcast.families.registry import family_names
from tickcast.features.dataset import build_dataset, load_dataset
from tickcast.features.dataset_version import DatasetVersion
from tickcast.models.intervals import ewma_volatility, interval_metrics
from tickcast.ops.evaluate import evaluate
from tickcast.ops.promote import promote, promote_manually, rollback
from tickcast.ops.train_candidate import TEST_PREDICTIONS, train_candidate
from tickcast.ops.tune import tune, tuned_params
from tickcast.registry.aliases import model_uri, production_version
from tickcast.registry.bundle import load_bundle
from tickcast.registry.errors import PromotionError
from tickcast.registry.production_bundle import logged_bundle_directory
from tickcast.registry.pyfunc import load_forecaster
from tickcast.registry.tracking import configure_mlflow, registry_client

pytestmark = pytest.mark.slow
TICKERS = ["AAPL", "GE", "JPM", "XOM"]


@pytest.fixture(scope="module")
def tracking_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mlflow")


@pytest.fixture
def small(
    settings: Settings,
    tracking_dir: Path,
    stocknet_dir: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Settings:
    """A few tickers, short windows, 2 epochs, its own registered model name."""
    configured = settings.with_overrides(
        {
            "tickers": TICKERS,
            "dataset": {"sequence_length": 10},
            "training": {"max_epochs": 2, "params": {"hidden_size": 16, "batch_size": 128}},
            "mlflow": {
                "tracking_uri": mlflow_store(tracking_dir),
                "model_name": f"test-{request.node.name[:40]}".replace("[", "-").replace("]", ""),
            },
        }
    )
    ingest_prices(configured, source="csv", csv_path=copy_stocknet(TICKERS, tmp_path / "csv"))
    return configured


@pytest.mark.slow(seconds=45)  # a Ray search: Ray's start-up and two trials
def test_search_bootstrap_then_a_worse_candidate_then_rollback(small: Settings) -> None:
    version = build_dataset(small)
    searched = tune(
        small.with_overrides(
            {"tuning": {"backend": "ray", "trials": 2, "max_epochs": 2, "grace_period": 1}}
        ),
        version.id,
    )
    assert len(searched.trials) == 2 and searched.backend == "ray"
    assert searched.best_validation_loss == min(
        t.validation_loss for t in searched.trials if t.validation_loss
    )
    assert tuned_params(small, version.id) == searched.best_params
    first = train_candidate(small, version.id)  # trains the searched parameters
    assert first.model_version == 1
    assert first.params == searched.best_params
    assert first.test_persistence.mase == 1.0

    decision = promote(small, evaluate(small, 1))
    assert decision.promoted and decision.bootstrap
    assert (decision.production_before, decision.production_after) == (None, 1)
    client = configure_mlflow(small)
    assert production_version(client, small) == 1

    # The production model reproduces the logged test predictions exactly.
    production = load_forecaster(f"models:/{small.mlflow.model_name}@production")
    _, arrays = load_dataset(small, version.id)
    test = arrays.samples(version.rows("test"))
    last = np.flatnonzero(test.rows == test.rows[-1])
    logged = np.load(
        mlflow.artifacts.download_artifacts(run_id=first.run_id, artifact_path=TEST_PREDICTIONS)
    )
    assert np.array_equal(
        production.predict(arrays.inputs(test.take(last))), logged["predicted"][last]
    )
    artifacts = {a.path for a in client.list_artifacts(first.run_id, "plots")}
    assert artifacts == {"plots/learning_curve.png", "plots/predictions_vs_actuals.png"}
    params = client.get_run(first.run_id).data.params
    assert params["dataset_id"] == version.id and params["dataset_sha256"] == version.content_sha256

    # A candidate that cannot win by the rule leaves the alias alone, with the reason audited.
    strict = small.with_overrides(
        {"promotion": {"min_improvement": 0.5}, "training": {"seed": 1}}  # another model
    )
    second = train_candidate(strict, version.id)
    evaluation = evaluate(strict, second.model_version)
    assert evaluation.production_version == 1 and evaluation.production is not None
    assert evaluation.persistence.mase == 1.0
    paired = evaluation.paired_test  # same rows, both models: Diebold-Mariano on |errors|
    assert paired is not None and paired.method == "diebold_mariano"
    assert paired.sessions == version.splits["test"].sessions and 0 <= paired.p_value <= 1
    # Both models' calibrated intervals and the volatility baseline's, on the same rows.
    bands = (evaluation.candidate_intervals, evaluation.production_intervals)
    baseline = evaluation.baseline_intervals
    assert baseline is not None and all(b is not None for b in bands)
    assert {b.samples for b in (*bands, baseline) if b} == {evaluation.candidate.samples}
    assert all(b is not None and 0 < (b.coverage or 0) <= 1 for b in (*bands, baseline))
    refused = promote(strict, evaluation)
    assert not refused.promoted
    assert "required > 50.00%" in refused.reason
    assert production_version(client, small) == 1
    tags = client.get_model_version(small.mlflow.model_name, "2").tags
    assert tags["tickcast.promotion"] == "rejected"

    again = promote(small, evaluate(small, 1))
    assert not again.promoted and again.reason == "v1 is already production"

    manual = promote_manually(small, 2, "operator test")
    assert (manual.production_before, manual.production_after) == (1, 2)
    back = rollback(small)
    assert (back.production_before, back.production_after) == (2, 1)
    assert production_version(client, small) == 1
    with pytest.raises(PromotionError, match="nothing to roll back to"):
        rollback(small)

    with connect(small.database.url or "") as conn:
        audit = promotion_history(conn, small.mlflow.model_name)
    assert [
        (a["action"], a["promoted"], a["production_before"], a["production_after"]) for a in audit
    ] == [
        ("rollback", False, 2, 1),
        ("promote", True, 1, 2),
        ("promote", False, 1, 1),  # v1 is already production
        ("promote", False, 1, 1),  # the refused candidate
        ("promote", True, None, 1),
    ]
    assert audit[-1]["bootstrap"] and audit[-1]["metrics"]["persistence"]["mase"] == 1.0
    assert audit[2]["reason"] == "v1 is already production"
    assert "required > 50.00%" in audit[3]["reason"]


@pytest.mark.parametrize("family", family_names())
def test_every_architecture_round_trips_through_mlflow(
    small: Settings, family: str, tmp_path: Path
) -> None:
    settings = small.with_overrides({"training": {"max_epochs": 1, "params": {"family": family}}})
    version: DatasetVersion = build_dataset(settings)
    result = train_candidate(settings, version.id)
    loaded = load_forecaster(model_uri(settings, result.model_version))
    assert loaded.params.family == family
    assert loaded.spec == version.feature_spec()
    _, arrays = load_dataset(settings, version.id)
    test = arrays.samples(version.rows("test"))
    logged = np.load(
        mlflow.artifacts.download_artifacts(run_id=result.run_id, artifact_path=TEST_PREDICTIONS)
    )
    predicted = loaded.predict(arrays.inputs(test), test.rows)
    assert np.array_equal(predicted, logged["predicted"])
    # Predict and monitor read the same bundle straight from the version's files (no MLflow).
    files = registry_client(settings).get_model_version_download_uri(
        settings.mlflow.model_name, str(result.model_version)
    )
    direct = logged_bundle_directory(files)
    assert direct is not None and logged_bundle_directory(f"s3://bucket/{direct}") is None
    assert np.array_equal(load_bundle(direct).predict(arrays.inputs(test), test.rows), predicted)
    # Intervals of a kind this version no longer reads (the first, unscaled ones): points only.
    older = tmp_path / "older"
    shutil.copytree(direct, older)
    described = json.loads((older / "intervals.json").read_text())
    (older / "intervals.json").write_text(json.dumps(described | {"kind": "trees"}))
    assert load_bundle(direct).intervals is not None and load_bundle(older).intervals is None
    assert np.array_equal(load_bundle(older).predict(arrays.inputs(test), test.rows), predicted)
    # Calibrated on validation: the logged factors are the bundle's, and they never amplify.
    assert loaded.calibration == result.calibration
    logged_metrics = mlflow.get_run(result.run_id).data.metrics
    for part, factor in loaded.calibration.model_dump().items():
        assert 0.0 < factor <= 1.0
        assert logged_metrics[f"calibration_{part}"] == pytest.approx(factor)
    # Its calibrated quantiles: monotone, and scoring them again gives the logged test figures.
    volatility = ewma_volatility(
        arrays.matrix.adjusted_close, settings.intervals.volatility_halflife_sessions
    )[test.rows, test.columns]
    quantiles = loaded.predict_quantiles(arrays.inputs(test), test.rows, volatility)
    assert quantiles is not None and quantiles.shape == (len(test), 3)
    assert np.all(np.diff(quantiles[np.isfinite(volatility)], axis=1) >= 0)
    again = interval_metrics(quantiles, arrays.targets(test), settings.intervals.levels)
    assert result.test_intervals is not None and again.samples == result.test_intervals.samples
    assert logged_metrics["test_interval_coverage"] == pytest.approx(again.coverage)
    assert logged_metrics["test_interval_width_pct"] == pytest.approx(again.width_pct)
    assert "test_interval_baseline_coverage" in logged_metrics
    pyfunc = mlflow.pyfunc.load_model(model_uri(settings, result.model_version))
    last = np.flatnonzero(test.rows == test.rows[-1])  # the last session's tickers, one pass
    window = arrays.inputs(test.take(last))
    assert np.array_equal(pyfunc.predict(window), predicted[last])
    with pytest.raises(Exception, match="shape"):
        pyfunc.predict(window[:, 1:])


def test_optuna_search_records_trials_in_postgres_and_mlflow(small: Settings) -> None:
    settings = small.with_overrides(
        {
            "tuning": {
                "backend": "optuna",
                "trials": 4,
                "max_epochs": 3,
                "grace_period": 1,
                "reduction_factor": 2,
            }
        }
    )
    version = build_dataset(settings)
    result = tune(settings, version.id)
    assert [t.number for t in result.trials] == [0, 1, 2, 3]
    assert all(1 <= t.epochs <= 3 and t.state in ("complete", "stopped") for t in result.trials)
    with connect(settings.database.url or "") as conn:
        stored = conn.execute(
            "SELECT backend, jsonb_array_length(trials), best_validation_loss FROM optimization_results WHERE dataset_id = %s",
            (version.id,),
        ).fetchall()
    assert stored == [("optuna", 4, result.best_validation_loss)]
    client = configure_mlflow(settings)
    children = client.search_runs(
        [client.get_run(result.mlflow_run_id).info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{result.mlflow_run_id}'",
    )
    assert len(children) == 4
    assert {a.path for a in client.list_artifacts(result.mlflow_run_id, "plots")} == {
        "plots/search.png"
    }
