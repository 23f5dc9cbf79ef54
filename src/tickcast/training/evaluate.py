"""Judging predictions on a part of a dataset version, always next to persistence and the
one-line baselines (tickcast.models.baselines), fitted on the version's training rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tickcast.config import EvaluationSettings
from tickcast.features.dataset_version import DatasetArrays, DatasetVersion
from tickcast.features.samples import Samples
from tickcast.models.baselines import Baselines, fit_baselines
from tickcast.models.calibration import Calibration, fit_calibration
from tickcast.models.forecasters import Forecaster
from tickcast.models.metrics import ForecastMetrics, forecast_metrics


@dataclass(frozen=True)
class CalibratedResults:
    """A trained forecaster judged on validation and test, its forecasts calibrated first."""

    calibration: Calibration  # fitted on the validation samples
    samples: dict[str, Samples]  # validation, test
    predictions: dict[str, np.ndarray]  # calibrated
    metrics: dict[str, ForecastMetrics]
    test_persistence: ForecastMetrics
    baselines: Baselines  # fitted on training, calibrated on validation
    test_baselines: dict[str, ForecastMetrics]  # each baseline on the same test samples


def calibrated_results(
    forecaster: Forecaster,
    version: DatasetVersion,
    arrays: DatasetArrays,
    evaluation: EvaluationSettings,
) -> CalibratedResults:
    """Calibrate on validation, then score validation and test (and persistence and the
    baselines on test)."""
    samples = {part: arrays.samples(version.rows(part)) for part in ("validation", "test")}
    raw = {part: arrays.predict(forecaster, found) for part, found in samples.items()}
    validation = samples["validation"]
    calibration = fit_calibration(raw["validation"], arrays.targets(validation), validation.rows)
    predictions = {
        part: calibration.apply(values, samples[part].rows) for part, values in raw.items()
    }
    baselines = version_baselines(version, arrays, evaluation)
    return CalibratedResults(
        calibration=calibration,
        samples=samples,
        predictions=predictions,
        metrics={
            part: score(arrays, samples[part], predictions[part], evaluation) for part in samples
        },
        test_persistence=persistence_metrics(arrays, samples["test"], evaluation),
        baselines=baselines,
        test_baselines=baseline_metrics(baselines, arrays, samples["test"], evaluation),
    )


def version_baselines(
    version: DatasetVersion, arrays: DatasetArrays, evaluation: EvaluationSettings
) -> Baselines:
    """The baselines fitted on the version's training samples, calibrated on its validation
    samples."""
    train, validation = (arrays.samples(version.rows(part)) for part in ("train", "validation"))
    return fit_baselines(
        arrays.matrix.adjusted_close,
        arrays.matrix.targets,
        (train.rows, train.columns),
        (validation.rows, validation.columns),
        evaluation.market_sessions,
    )


def baseline_metrics(
    baselines: Baselines,
    arrays: DatasetArrays,
    samples: Samples,
    evaluation: EvaluationSettings,
) -> dict[str, ForecastMetrics]:
    """Each baseline's metrics on `samples`."""
    return {
        name: score(arrays, samples, values, evaluation)
        for name, values in baseline_forecasts(baselines, arrays, samples).items()
    }


def baseline_forecasts(
    baselines: Baselines, arrays: DatasetArrays, samples: Samples
) -> dict[str, np.ndarray]:
    """Each baseline's forecasts of `samples` (a sample without today's return: a zero
    return)."""
    found = baselines.forecast(arrays.matrix.adjusted_close, samples.rows, samples.columns)
    return {name: np.nan_to_num(values, nan=0.0) for name, values in found.items()}


def score(
    arrays: DatasetArrays,
    samples: Samples,
    predicted: np.ndarray,
    evaluation: EvaluationSettings,
) -> ForecastMetrics:
    """Metrics of predicted log returns (samples,), across tickers per session for the ICs."""
    return forecast_metrics(
        predicted,
        arrays.targets(samples),
        arrays.close(samples),
        sessions=samples.rows,
        tickers=samples.columns,
        evaluation=evaluation,
    )


def persistence_metrics(
    arrays: DatasetArrays, samples: Samples, evaluation: EvaluationSettings
) -> ForecastMetrics:
    """The baseline: a zero log return everywhere (its MASE is 1 by construction)."""
    return score(arrays, samples, np.zeros(len(samples)), evaluation)
