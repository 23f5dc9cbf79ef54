"""Fitting a family's quantile model on the training samples, its conformal calibration and the
volatility baseline's on the validation samples, and judging both on the test samples.

Quantiles are of the raw next log return (whatever target the point model learns): an interval
is a statement about the close a user will see.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from tickcast.config import IntervalSettings, ModelParams
from tickcast.features.dataset_version import PREDICTION_CHUNK, DatasetArrays
from tickcast.features.samples import Samples, session_chunks
from tickcast.models.forecasters import TabularForecaster, tabular
from tickcast.models.intervals import (
    IntervalMetrics,
    ewma_volatility,
    fit_interval_calibration,
    interval_metrics,
    volatility_quantiles,
)
from tickcast.models.quantile_models import (
    HeadQuantiles,
    IntervalForecaster,
    QuantileModel,
    ResidualQuantiles,
    TreeQuantiles,
    with_volatility,
)
from tickcast.training.tabular import lightgbm_params
from tickcast.training.trained import TrainedModel, TrainingData


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
) -> FittedIntervals:
    """Quantile model, calibrations and their validation and test metrics."""
    started = time.perf_counter()
    levels = settings.levels
    volatility = ewma_volatility(
        arrays.matrix.adjusted_close, settings.volatility_halflife_sessions
    )
    parts = {"train": data.train, "validation": data.validation, "test": test}
    vol = {name: volatility[s.rows, s.columns] for name, s in parts.items()}
    actual = {name: arrays.targets(s) for name, s in parts.items()}
    # Raw point forecasts: ridge's quantiles are offsets from them (the training ones: only then)
    point = {
        name: arrays.predict(trained.forecaster, s)
        for name, s in parts.items()
        if name != "train" or trained.params.architecture == "ridge"
    }
    model = _quantile_model(trained, arrays, data, vol, actual, point, levels, seed)

    def raw(name: str) -> np.ndarray:
        return _raw_quantiles(model, arrays, parts[name], point[name], vol[name], len(levels))

    known = np.isfinite(vol["validation"])
    calibration = fit_interval_calibration(
        raw("validation")[known], actual["validation"][known], levels
    )
    baseline_raw = volatility_quantiles(vol["validation"], levels)
    baseline = fit_interval_calibration(baseline_raw[known], actual["validation"][known], levels)
    forecaster = IntervalForecaster(
        model, calibration, baseline, settings.volatility_halflife_sessions
    )
    quantiles, metrics, baselines = {}, {}, {}
    for name in ("validation", "test"):
        quantiles[name] = calibration.apply(raw(name))
        quantiles[name][~np.isfinite(vol[name])] = np.nan
        metrics[name] = interval_metrics(quantiles[name], actual[name], levels)
        baselines[name] = interval_metrics(
            forecaster.baseline_quantiles(vol[name]), actual[name], levels
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


def _quantile_model(
    trained: TrainedModel,
    arrays: DatasetArrays,
    data: TrainingData,
    vol: dict[str, np.ndarray],
    actual: dict[str, np.ndarray],
    point: dict[str, np.ndarray],
    levels: list[float],
    seed: int,
) -> QuantileModel:
    forecaster, params = trained.forecaster, trained.params
    known = np.isfinite(vol["train"]) & np.isfinite(actual["train"])
    if params.architecture == "ridge":
        standardised = (actual["train"] - point["train"])[known] / vol["train"][known]
        return ResidualQuantiles(np.quantile(standardised, levels))
    if params.architecture == "lightgbm":
        assert isinstance(forecaster, TabularForecaster)
        return _tree_quantiles(arrays, data, params, vol, actual, levels, seed)
    return _head_quantiles(trained)


def _tree_quantiles(
    arrays: DatasetArrays,
    data: TrainingData,
    params: ModelParams,
    vol: dict[str, np.ndarray],
    actual: dict[str, np.ndarray],
    levels: list[float],
    seed: int,
) -> TreeQuantiles:
    """One LightGBM booster per level, quantile objective on the next return in units of recent
    volatility, early-stopped on validation."""
    import lightgbm

    sessions = params.tabular_sessions

    def learnable(name: str, samples: Samples) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and standardised targets of the samples whose volatility is known."""
        with np.errstate(divide="ignore", invalid="ignore"):
            y = (actual[name] / vol[name]).astype(np.float32)
        known = np.flatnonzero(np.isfinite(y))
        part = samples.take(known)
        x = tabular(arrays.inputs(part, sessions), sessions)
        return with_volatility(x, vol[name][known]), y[known]

    x, y = learnable("train", data.train)
    x_validation, y_validation = learnable("validation", data.validation)
    boosters = []
    for level in levels:
        boosters.append(
            lightgbm.train(
                lightgbm_params(params, seed, objective="quantile", alpha=level, metric="quantile"),
                lightgbm.Dataset(x, y),
                num_boost_round=params.n_estimators,
                valid_sets=[lightgbm.Dataset(x_validation, y_validation)],
                callbacks=[lightgbm.early_stopping(50, verbose=False)],
            )
        )
    return TreeQuantiles(boosters, sessions)


def _head_quantiles(trained: TrainedModel) -> HeadQuantiles:
    """The quantile head the network was trained with."""
    if trained.quantile_head is None:
        raise ValueError(
            f"this {trained.params.architecture} network was trained without a quantile head: "
            "train it with the interval settings (train_model(..., intervals=...))"
        )
    weight, bias = trained.quantile_head
    return HeadQuantiles(trained.forecaster, weight, bias)
