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
from tickcast.training.fit import TrainedModel, TrainingData
from tickcast.training.tabular import lightgbm_params

# Training samples a network's quantile head is fitted on (a random subset beyond this).
HEAD_SAMPLES = 100_000
HEAD_STEPS = 300


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
    volatility = ewma_volatility(arrays.matrix.close, settings.volatility_halflife_sessions)
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
    return _head_quantiles(forecaster, arrays, data, actual["train"], known, levels, seed)


def _tree_quantiles(
    arrays: DatasetArrays,
    data: TrainingData,
    params: ModelParams,
    vol: dict[str, np.ndarray],
    actual: dict[str, np.ndarray],
    levels: list[float],
    seed: int,
) -> TreeQuantiles:
    """One LightGBM booster per level, quantile objective, early-stopped on validation."""
    import lightgbm

    sessions = params.tabular_sessions

    def inputs(samples: Samples, volatility: np.ndarray) -> np.ndarray:
        return with_volatility(tabular(arrays.inputs(samples, sessions), sessions), volatility)

    x = inputs(data.train, vol["train"])
    y = (actual["train"] / data.target_scale).astype(np.float32)
    x_validation = inputs(data.validation, vol["validation"])
    y_validation = (actual["validation"] / data.target_scale).astype(np.float32)
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
    return TreeQuantiles(boosters, sessions, data.target_scale)


def _head_quantiles(
    forecaster: object,
    arrays: DatasetArrays,
    data: TrainingData,
    actual: np.ndarray,
    known: np.ndarray,
    levels: list[float],
    seed: int,
) -> HeadQuantiles:
    """A linear head on the trained network's representation, fitted with the pinball loss
    (the network itself stays as trained)."""
    import torch

    from tickcast.models.network_forecaster import NetworkForecaster

    assert isinstance(forecaster, NetworkForecaster)
    rng = np.random.default_rng(seed)
    chosen = np.flatnonzero(known)
    if len(chosen) > HEAD_SAMPLES:
        chosen = np.sort(rng.choice(chosen, HEAD_SAMPLES, replace=False))
    samples = data.train.take(chosen)
    represented = np.concatenate(
        [
            forecaster.represent(arrays.inputs(samples.take(c)), samples.rows[c])
            for c in session_chunks(samples.rows, PREDICTION_CHUNK)
        ]
    )
    torch.manual_seed(seed)
    x = torch.from_numpy(represented.astype(np.float32))
    y = torch.from_numpy((actual[chosen] / data.target_scale).astype(np.float32))[:, None]
    tau = torch.tensor(levels, dtype=torch.float32)[None, :]
    head = torch.nn.Linear(x.shape[1], len(levels))
    optimiser = torch.optim.Adam(head.parameters(), lr=0.01)
    for _ in range(HEAD_STEPS):
        optimiser.zero_grad()
        error = y - head(x)
        loss = torch.maximum(tau * error, (tau - 1) * error).mean()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
    return HeadQuantiles(
        forecaster,
        head.weight.detach().numpy().astype(np.float64),
        head.bias.detach().numpy().astype(np.float64),
        data.target_scale,
    )
