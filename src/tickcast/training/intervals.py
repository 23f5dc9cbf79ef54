"""Fitting a family's quantile model on the training samples, its conformal calibration and the
volatility baseline's on the validation samples, and judging both on the test samples.

Quantiles are of the raw next log return (whatever target the point model learns): an interval
is a statement about the close a user will see.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from tickcast.config import IntervalSettings
from tickcast.families.base import IntervalEvidence
from tickcast.families.registry import family
from tickcast.families.trained import TrainedModel, TrainingData
from tickcast.features.dataset_version import PREDICTION_CHUNK, DatasetArrays
from tickcast.features.samples import Samples, session_chunks
from tickcast.models.calibration import Calibration
from tickcast.models.intervals import (
    IntervalMetrics,
    ewma_volatility,
    fit_interval_calibration,
    interval_metrics,
    volatility_quantiles,
)
from tickcast.models.quantile_models import (
    IntervalForecaster,
    QuantileModel,
)


@dataclass(frozen=True)
class FittedIntervals:
    forecaster: IntervalForecaster
    metrics: dict[str, IntervalMetrics]  # validation, test
    baseline: dict[str, IntervalMetrics]  # the volatility baseline on the same samples
    test_quantiles: np.ndarray  # (test samples, levels), calibrated
    seconds: float


def fit_intervals(
    trained: TrainedModel,
    arrays: DatasetArrays,
    data: TrainingData,
    test: Samples,
    settings: IntervalSettings,
    seed: int,
    calibration: Calibration,
) -> FittedIntervals:
    """Quantile model, calibrations and their validation and test metrics; `calibration`: the
    point calibration fitted on validation (what a residual band is centred on)."""
    started = time.perf_counter()
    levels = settings.levels
    volatility = ewma_volatility(
        arrays.matrix.adjusted_close, settings.volatility_halflife_sessions
    )
    parts = {"train": data.train, "validation": data.validation, "test": test}
    vol = {name: volatility[s.rows, s.columns] for name, s in parts.items()}
    actual = {name: arrays.targets(s) for name, s in parts.items()}
    # Raw point forecasts (the training ones only for a family whose interval model reads them)
    kind = family(trained.params.family)
    point = {
        name: arrays.predict(trained.forecaster, s)
        for name, s in parts.items()
        if name != "train" or kind.reads_training_forecasts
    }
    sessions = {name: s.rows for name, s in parts.items()}
    evidence = IntervalEvidence(list(levels), sessions, vol, actual, point, calibration)
    model = kind.interval_model(trained, arrays, data, evidence, seed)

    def raw(name: str) -> np.ndarray:
        return _raw_quantiles(model, arrays, parts[name], point[name], vol[name], len(levels))

    known = np.isfinite(vol["validation"])
    scores = fit_interval_calibration(raw("validation")[known], actual["validation"][known], levels)
    baseline_raw = volatility_quantiles(vol["validation"], levels)
    baseline = fit_interval_calibration(baseline_raw[known], actual["validation"][known], levels)
    forecaster = IntervalForecaster(model, scores, baseline, settings.volatility_halflife_sessions)
    quantiles, metrics, baselines = {}, {}, {}
    for name in ("validation", "test"):
        quantiles[name] = scores.apply(raw(name))
        quantiles[name][~np.isfinite(vol[name])] = np.nan
        where = {
            "sessions": parts[name].rows,
            "tickers": parts[name].columns,
            "volatility": vol[name],
        }
        metrics[name] = interval_metrics(quantiles[name], actual[name], levels, **where)
        baselines[name] = interval_metrics(
            forecaster.baseline_quantiles(vol[name]), actual[name], levels, **where
        )
    return FittedIntervals(
        forecaster, metrics, baselines, quantiles["test"], time.perf_counter() - started
    )


def _raw_quantiles(
    model: QuantileModel,
    arrays: DatasetArrays,
    samples: Samples,
    point: np.ndarray,
    volatility: np.ndarray,
    levels: int,
) -> np.ndarray:
    """The model's raw quantiles, a bounded number of whole sessions at a time."""
    found = np.empty((len(samples), levels))
    for chunk in session_chunks(samples.rows, PREDICTION_CHUNK):
        part = samples.take(chunk)
        found[chunk] = model.raw_quantiles(
            arrays.inputs(part), part.rows, point[chunk], volatility[chunk]
        )
    return found
