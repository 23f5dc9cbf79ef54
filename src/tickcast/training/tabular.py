"""Ridge regression (scikit-learn) and a LightGBM regressor on the pooled samples: each sample's
last `tabular_sessions` sessions of scaled features, flattened (cross-sectional features
included), against the target scaled by its training standard deviation."""

from __future__ import annotations

import os
import time

import numpy as np

from tickcast.config import ModelParams, TrainingSettings
from tickcast.features.dataset_version import DatasetArrays
from tickcast.models.forecasters import LinearModel, TabularForecaster, tabular
from tickcast.training.trained import (
    EpochCallback,
    EpochRecord,
    TrainedModel,
    TrainingData,
    seed_everything,
    validation_mse,
)

EARLY_STOPPING_ROUNDS = 50


def train_tabular(
    arrays: DatasetArrays,
    data: TrainingData,
    params: ModelParams,
    loop: TrainingSettings,
    on_epoch: EpochCallback | None = None,
) -> TrainedModel:
    """Fit ridge or LightGBM; one history record (LightGBM stops early on validation)."""
    seed_everything(loop.seed)
    started = time.perf_counter()
    x = tabular(arrays.inputs(data.train, params.tabular_sessions), params.tabular_sessions)
    y = (data.train_targets / data.target_scale).astype(np.float32)
    if params.architecture == "ridge":
        from sklearn.linear_model import Ridge

        # LSQR works on the float32 inputs as they are; the default Cholesky solve forms X'X in
        # float32, where exactly collinear features (relative_return = log_return -
        # market_return, macd_hist = macd - macd_signal) make it ill-conditioned: a LinAlgWarning
        # and coefficients off by a tenth. LSQR matches a float64 solve and is 3x faster.
        fitted_ridge = Ridge(alpha=params.ridge_alpha, solver="lsqr").fit(x, y)
        model: object = LinearModel(
            np.asarray(fitted_ridge.coef_, np.float64), float(fitted_ridge.intercept_)
        )
    elif params.architecture == "lightgbm":
        model = _lightgbm(arrays, data, params, loop, x, y)
    else:
        raise ValueError(f"{params.architecture!r} is not a tabular family: ridge or lightgbm")
    forecaster = TabularForecaster(model, params.tabular_sessions, data.target_scale)
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


def _lightgbm(
    arrays: DatasetArrays,
    data: TrainingData,
    params: ModelParams,
    loop: TrainingSettings,
    x: np.ndarray,
    y: np.ndarray,
) -> object:
    import lightgbm

    validation = lightgbm.Dataset(
        tabular(arrays.inputs(data.validation, params.tabular_sessions), params.tabular_sessions),
        (data.validation_targets / data.target_scale).astype(np.float32),
    )
    booster = lightgbm.train(
        lightgbm_params(params, loop.seed, objective="regression", lambda_l2=1.0),
        lightgbm.Dataset(x, y),
        num_boost_round=params.n_estimators,
        valid_sets=[validation],
        callbacks=[lightgbm.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )
    return booster


def lightgbm_params(params: ModelParams, seed: int, **objective: object) -> dict[str, object]:
    """LightGBM's training parameters for `params`, seeded and deterministic; `objective` adds
    the objective and anything particular to it (e.g. objective="quantile", alpha=0.9)."""
    return {
        "learning_rate": params.tree_learning_rate,
        "num_leaves": params.num_leaves,
        "min_data_in_leaf": params.min_child_samples,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "seed": seed,
        "deterministic": True,
        "num_threads": os.cpu_count() or 1,
        "verbosity": -1,
        **objective,
    }
