"""LightGBM on the flattened last sessions of each window, early-stopped on validation; its
interval model: one quantile booster per level on the next return in units of recent volatility
(recent volatility an input too)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tickcast.config import IntervalSettings, ModelParams, TrainingSettings
from tickcast.families.base import IntervalEvidence
from tickcast.families.tabular import fit_tabular, tabular_forecaster, tabular_state
from tickcast.families.threads import cpu_threads
from tickcast.families.trained import EpochCallback, TrainedModel, TrainingData
from tickcast.features.dataset_version import DatasetArrays
from tickcast.features.samples import Samples
from tickcast.features.spec import FeatureSpec
from tickcast.models.forecasters import Forecaster, tabular
from tickcast.models.quantile_models import QuantileModel, TreeQuantiles, with_volatility

# Rounds without a better validation loss before boosting stops (at learning rate 0.05 a
# stalled booster has its best tree 20 rounds back; 50 cost a whole retrain at S&P 500 scale
# 15 s of trees that were thrown away)
EARLY_STOPPING_ROUNDS = 20
# The quantile boosters learn from at most this many training samples (a seeded random subset,
# in order): a quantile of standardised returns is pinned down long before a pooled S&P 500
# history's 1.4 million samples, and the three boosters were two thirds of a whole retrain there.
QUANTILE_TRAINING_SAMPLES = 250_000
_TREES = "lightgbm.txt"


@dataclass(frozen=True)
class LightGBMFamily:
    name: str = "lightgbm"
    description: str = "gradient-boosted trees on the window's last sessions, flattened"
    network: bool = False
    reads_training_forecasts: bool = False

    def fit(
        self,
        arrays: DatasetArrays,
        data: TrainingData,
        params: ModelParams,
        loop: TrainingSettings,
        on_epoch: EpochCallback | None = None,
        show_progress: bool = False,
        intervals: IntervalSettings | None = None,
    ) -> TrainedModel:
        def boosted(x: np.ndarray, y: np.ndarray) -> object:
            import lightgbm

            sessions = params.tabular_sessions
            validation = lightgbm.Dataset(
                tabular(arrays.inputs(data.validation, sessions), sessions),
                (data.validation_targets / data.target_scale).astype(np.float32),
            )
            return lightgbm.train(
                lightgbm_params(params, loop.seed, objective="regression", lambda_l2=1.0),
                lightgbm.Dataset(x, y),
                num_boost_round=params.n_estimators,
                valid_sets=[validation],
                callbacks=[lightgbm.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
            )

        trained = fit_tabular(arrays, data, params, loop, boosted, on_epoch)
        booster, _ = tabular_state(trained.forecaster, self.name)
        trained.best_iteration = int(booster.best_iteration)
        return trained

    def interval_model(
        self,
        trained: TrainedModel,
        arrays: DatasetArrays,
        data: TrainingData,
        evidence: IntervalEvidence,
        seed: int,
    ) -> QuantileModel:
        """One booster per level, quantile objective on the next return in units of recent
        volatility, early-stopped on validation; learnt from at most QUANTILE_TRAINING_SAMPLES
        training samples, binned once for every level."""
        import lightgbm

        params = trained.params
        sessions = params.tabular_sessions

        def learnable(
            name: str, samples: Samples, most: int | None = None
        ) -> tuple[np.ndarray, np.ndarray]:
            """Inputs and standardised targets of the samples whose volatility is known (at
            most `most` of them, a seeded random subset in order)."""
            with np.errstate(divide="ignore", invalid="ignore"):
                y = (evidence.actual[name] / evidence.volatility[name]).astype(np.float32)
            known = np.flatnonzero(np.isfinite(y))
            if most is not None and len(known) > most:
                rng = np.random.default_rng(seed)
                known = np.sort(rng.choice(known, most, replace=False))
            part = samples.take(known)
            x = tabular(arrays.inputs(part, sessions), sessions)
            return with_volatility(x, evidence.volatility[name][known]), y[known]

        x, y = learnable("train", data.train, QUANTILE_TRAINING_SAMPLES)
        x_validation, y_validation = learnable("validation", data.validation)
        binning = lightgbm_params(params, seed)
        binned = lightgbm.Dataset(x, y, params=binning, free_raw_data=False).construct()
        validation = lightgbm.Dataset(
            x_validation, y_validation, reference=binned, free_raw_data=False
        ).construct()
        boosters = [
            lightgbm.train(
                lightgbm_params(params, seed, objective="quantile", alpha=level, metric="quantile"),
                binned,
                num_boost_round=params.n_estimators,
                valid_sets=[validation],
                callbacks=[lightgbm.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
            )
            for level in evidence.levels
        ]
        return TreeQuantiles(boosters, sessions)

    def save(self, directory: Path, forecaster: Forecaster) -> dict[str, object]:
        model, stored = tabular_state(forecaster, self.name)
        (directory / _TREES).write_text(model.model_to_string())
        return stored

    def load(
        self, directory: Path, meta: dict[str, Any], params: ModelParams, spec: FeatureSpec
    ) -> Forecaster:
        import lightgbm

        return tabular_forecaster(
            lightgbm.Booster(model_str=(directory / _TREES).read_text()), meta
        )


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
        "num_threads": cpu_threads(),
        "verbosity": -1,
        **objective,
    }


LIGHTGBM = LightGBMFamily()
