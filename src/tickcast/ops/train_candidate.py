"""The "train candidate" step: fit on a dataset version, log everything, register a version."""

from __future__ import annotations

import io
import re
import resource
import tempfile
import time
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import torch
from pydantic import BaseModel

from tickcast.config import ModelParams, Settings
from tickcast.families.trained import EpochRecord, TrainedModel, training_data
from tickcast.features.dataset import load_dataset
from tickcast.features.dataset_version import DatasetArrays, DatasetVersion
from tickcast.features.samples import Samples
from tickcast.models.calibration import Calibration
from tickcast.models.intervals import IntervalMetrics
from tickcast.models.metrics import ForecastMetrics
from tickcast.ops.tune import tuned_params
from tickcast.registry import model_code
from tickcast.registry.bundle import ForecasterBundle, save_bundle
from tickcast.registry.plots import learning_curve, predictions_vs_actuals
from tickcast.registry.pyfunc import signature
from tickcast.registry.tracking import code_version, configure_mlflow
from tickcast.training.evaluate import CalibratedResults, calibrated_results
from tickcast.training.fit import train_model
from tickcast.training.intervals import FittedIntervals, fit_intervals

TEST_PREDICTIONS = "predictions/test.npz"


class CandidateResult(BaseModel):
    """What the step hands on: ids and the headline numbers."""

    run_id: str
    model_name: str
    model_version: int
    dataset_id: str
    params: ModelParams
    best_epoch: int
    best_iteration: int | None = None  # boosted trees: the round early stopping kept
    stage_seconds: dict[str, float] = {}  # where the step's time went, stage by stage
    stage_peak_mib: dict[str, float] = {}  # the process's peak memory by the end of each
    calibration: Calibration  # what the forecasts are multiplied by (fitted on validation)
    validation: ForecastMetrics
    test: ForecastMetrics
    test_persistence: ForecastMetrics
    test_baselines: dict[str, ForecastMetrics] = {}  # tickcast.models.baselines, same rows
    test_intervals: IntervalMetrics | None = None  # the calibrated central interval on test
    test_intervals_baseline: IntervalMetrics | None = None  # the volatility baseline's


def train_candidate(
    settings: Settings,
    dataset_id: str,
    params: ModelParams | None = None,
    show_progress: bool = False,
) -> CandidateResult:
    """Train `params` (default: the version's tuned parameters, else training.params) on the
    version, log it to MLflow and register it."""
    params = params or tuned_params(settings, dataset_id) or settings.training.params
    stages = Stages()
    version, arrays = load_dataset(settings, dataset_id)
    configure_mlflow(settings)
    stages.lap("dataset load")
    with mlflow.start_run(run_name=f"candidate {params.family} on {dataset_id}") as run:
        _log_inputs(settings, params, version)
        data = training_data(version, arrays)
        stages.lap("training data")
        trained = train_model(
            version,
            arrays,
            params,
            settings.training,
            on_epoch=_log_epoch,
            show_progress=show_progress,
            intervals=settings.intervals,
            data=data,
        )
        stages.lap("fit")
        judged = calibrated_results(trained.forecaster, version, arrays, settings.evaluation)
        _log_results(judged, trained.best_epoch)
        if trained.best_iteration is not None:
            mlflow.log_metric("best_iteration", trained.best_iteration)
        test = judged.samples["test"]
        stages.lap("calibration, metrics, baselines")
        intervals = fit_intervals(
            trained,
            arrays,
            data,
            test,
            settings.intervals,
            settings.training.seed,
            judged.calibration,
        )
        _log_intervals(intervals)
        stages.lap("intervals")
        _log_predictions(arrays, test, judged.predictions["test"])
        stages.lap("test predictions logged")
        if settings.training.log_figures:
            _log_figures(
                trained.history,
                trained.best_epoch,
                arrays,
                test,
                judged.predictions["test"],
                intervals.test_quantiles,
            )
        bundle = ForecasterBundle(
            trained.forecaster,
            params,
            version.feature_spec(),
            arrays.scalers,
            judged.calibration,
            intervals.forecaster,
            judged.baselines,
        )
        stages.lap("figures")
        model_version = _register(settings, bundle, arrays.inputs(test.take(slice(-1, None))))
        stages.lap("model logged and registered")
        mlflow.log_metrics({f"seconds_{name}": value for name, value in stages.slug_seconds()})
    return CandidateResult(
        run_id=run.info.run_id,
        model_name=settings.mlflow.model_name,
        model_version=model_version,
        dataset_id=dataset_id,
        params=params,
        **_judged(trained, judged, intervals),
        stage_seconds=stages.seconds,
        stage_peak_mib=stages.peak_mib,
    )


def _judged(
    trained: TrainedModel, judged: CalibratedResults, intervals: FittedIntervals
) -> dict[str, Any]:
    """The candidate's headline figures (CandidateResult's fields)."""
    return {
        "best_epoch": trained.best_epoch,
        "best_iteration": trained.best_iteration,
        "calibration": judged.calibration,
        "validation": judged.metrics["validation"],
        "test": judged.metrics["test"],
        "test_persistence": judged.test_persistence,
        "test_baselines": judged.test_baselines,
        "test_intervals": intervals.metrics["test"],
        "test_intervals_baseline": intervals.baseline["test"],
    }


class Stages:
    """Seconds per stage of a run, each lap ending the stage that began at the previous one, and
    the process's peak resident memory (MiB) by the end of each."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_mib: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._last
        self.peak_mib[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self._last = now

    def slug_seconds(self) -> list[tuple[str, float]]:
        """(stage as an MLflow metric name, seconds)."""
        return [
            ("_".join(re.findall(r"[a-z0-9]+", name)), value)
            for name, value in self.seconds.items()
        ]


def _log_inputs(settings: Settings, params: ModelParams, version: DatasetVersion) -> None:
    """The run's tags and parameters: the model's, its data's and the training loop's."""
    mlflow.set_tags({"tickcast.role": "candidate", "tickcast.dataset_id": version.id})
    mlflow.log_params(
        {
            **params.model_dump(),
            "dataset_id": version.id,
            "dataset_sha256": version.content_sha256,
            "code_version": code_version(),
            "tickers": len(version.tickers),
            "features": ",".join(version.features),
            "sequence_length": version.sequence_length,
            "horizon": version.horizon,
            "max_epochs": settings.training.max_epochs,
            "patience": settings.training.patience,
            "seed": settings.training.seed,
        }
    )


def _log_epoch(record: EpochRecord) -> None:
    losses = {"train_loss": record.train_loss, "validation_loss": record.validation_loss}
    if record.validation_pinball is not None:
        losses["validation_pinball"] = record.validation_pinball
    mlflow.log_metrics(losses, step=record.epoch)


def _log_results(judged: CalibratedResults, best_epoch: int) -> None:
    """The calibration and the calibrated metrics of each part, persistence's on test beside."""
    mlflow.log_metrics({f"calibration_{k}": v for k, v in judged.calibration.model_dump().items()})
    for part, metrics in judged.metrics.items():
        mlflow.log_metrics(metrics.as_dict(f"{part}_"))
        if metrics.not_judged:
            mlflow.set_tag(f"tickcast.{part}_not_judged", metrics.not_judged)
    mlflow.log_metrics(judged.test_persistence.as_dict("test_persistence_"))
    for name, metrics in judged.test_baselines.items():
        mlflow.log_metrics(metrics.as_dict(f"test_{name}_"))
    fitted = judged.baselines
    mlflow.log_params(
        {
            "baseline_reversal_slope": fitted.reversal_slope,
            "baseline_market_sessions": fitted.market_sessions,
        }
    )
    mlflow.log_metric("best_epoch", best_epoch)


def _log_intervals(intervals: FittedIntervals) -> None:
    for part in ("validation", "test"):
        mlflow.log_metrics(intervals.metrics[part].as_dict(f"{part}_interval_"))
        mlflow.log_metrics(intervals.baseline[part].as_dict(f"{part}_interval_baseline_"))
    mlflow.log_metric("interval_seconds", intervals.seconds)


def _register(settings: Settings, bundle: ForecasterBundle, example: np.ndarray) -> int:
    """Log the bundle as the run's model and register it: the new version's number."""
    with tempfile.TemporaryDirectory() as scratch:
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(Path(model_code.__file__)),
            artifacts={"bundle": str(save_bundle(Path(scratch) / "bundle", bundle))},
            pip_requirements=_requirements(),
            signature=signature(bundle.spec),
            input_example=example,
            registered_model_name=settings.mlflow.model_name,
        )
    return int(info.registered_model_version)


def _log_predictions(arrays: DatasetArrays, samples: Samples, predicted: np.ndarray) -> None:
    """One row per test sample: anchor date, ticker, predicted and actual log return."""
    buffer = io.BytesIO()
    np.savez(
        buffer,
        anchor_dates=np.asarray(arrays.matrix.dates[samples.rows], dtype="datetime64[D]"),
        tickers=np.asarray(arrays.matrix.tickers)[samples.columns],
        predicted=predicted,
        actual=arrays.targets(samples),
    )
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / Path(TEST_PREDICTIONS).name
        path.write_bytes(buffer.getvalue())
        mlflow.log_artifact(str(path), artifact_path=str(Path(TEST_PREDICTIONS).parent))


def _log_figures(
    history: list[EpochRecord],
    best_epoch: int,
    arrays: DatasetArrays,
    samples: Samples,
    predicted: np.ndarray,
    quantiles: np.ndarray,
) -> None:
    rows = np.unique(samples.rows)
    at = np.searchsorted(rows, samples.rows)
    wide = {
        name: np.full((len(rows), len(arrays.matrix.tickers)), np.nan)
        for name in ("close", "predicted", "actual", "low", "high")
    }
    for name, values in (
        ("close", arrays.close(samples)),
        ("predicted", predicted),
        ("actual", arrays.targets(samples)),
        ("low", quantiles[:, 0]),
        ("high", quantiles[:, -1]),
    ):
        wide[name][at, samples.columns] = values
    busiest = np.argsort(-np.isfinite(wide["actual"]).sum(axis=0), kind="stable")
    for figure, name in (
        (learning_curve(history, best_epoch), "plots/learning_curve.png"),
        (
            predictions_vs_actuals(
                arrays.matrix.dates[rows],
                [arrays.matrix.tickers[c] for c in busiest],
                wide["close"][:, busiest],
                wide["predicted"][:, busiest],
                wide["actual"][:, busiest],
                band=(wide["low"][:, busiest], wide["high"][:, busiest]),
                band_label="calibrated interval",
            ),
            "plots/predictions_vs_actuals.png",
        ),
    ):
        mlflow.log_figure(figure, name)
        plt.close(figure)


def _requirements() -> list[str]:
    return [
        f"torch=={torch.__version__.split('+')[0]}",
        f"mlflow=={mlflow.__version__}",
        f"lightgbm=={package_version('lightgbm')}",
        "numpy",
        "pandas",
    ]
