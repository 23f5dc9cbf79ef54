"""What the tabular families (ridge, LightGBM) share: each sample's last `tabular_sessions`
sessions of scaled features, flattened (cross-sectional features included), against the target
scaled by its training standard deviation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tickcast.config import ModelParams, TrainingSettings
from tickcast.families.trained import (
    EpochCallback,
    EpochRecord,
    TrainedModel,
    TrainingData,
    seed_everything,
    validation_mse,
)
from tickcast.features.dataset_version import DatasetArrays
from tickcast.models.forecasters import Forecaster, TabularForecaster, tabular


def fit_tabular(
    arrays: DatasetArrays,
    data: TrainingData,
    params: ModelParams,
    loop: TrainingSettings,
    fit: Callable[[np.ndarray, np.ndarray], object],
    on_epoch: EpochCallback | None = None,
) -> TrainedModel:
    """A tabular family's model, `fit(x, y)` on the flattened training windows and the scaled
    targets; one history record."""
    seed_everything(loop.seed)
    started = time.perf_counter()
    x = tabular(arrays.inputs(data.train, params.tabular_sessions), params.tabular_sessions)
    y = (data.train_targets / data.target_scale).astype(np.float32)
    forecaster = TabularForecaster(fit(x, y), params.tabular_sessions, data.target_scale)
    trained = TrainedModel(forecaster, params)
    fitted = float(np.mean((forecaster.predict_tabular(x) / data.target_scale - y) ** 2))
    record = EpochRecord(
        1, fitted, validation_mse(forecaster, arrays, data), time.perf_counter() - started
    )
    trained.history.append(record)
    trained.best_epoch = 1
    if on_epoch is not None:
        on_epoch(record)
    return trained


def tabular_state(forecaster: Forecaster, family: str) -> tuple[Any, dict[str, object]]:
    """The fitted model inside a tabular `family`'s forecaster, and what the bundle's model.json
    keeps to rebuild the forecaster around it (`tabular_forecaster`)."""
    if not isinstance(forecaster, TabularForecaster):
        raise TypeError(
            f"a {family} bundle holds a tabular model, not a {type(forecaster).__name__}"
        )
    stored: dict[str, object] = {
        "target_scale": forecaster.target_scale,
        "sessions_used": forecaster.sessions_used,
    }
    return forecaster.model, stored


def tabular_forecaster(model: Any, meta: dict[str, Any]) -> TabularForecaster:
    """The forecaster a tabular bundle holds, around its loaded `model`."""
    return TabularForecaster(model, int(meta["sessions_used"]), float(meta["target_scale"]))
