"""Ridge regression (scikit-learn, fitted with LSQR) on the flattened last sessions of each
window; its interval model: the quantiles of its own training residuals in units of recent
volatility."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tickcast.config import IntervalSettings, ModelParams, TrainingSettings
from tickcast.families.base import IntervalEvidence, residual_quantiles
from tickcast.families.tabular import fit_tabular, tabular_forecaster, tabular_state
from tickcast.families.trained import EpochCallback, TrainedModel, TrainingData
from tickcast.features.dataset_version import DatasetArrays
from tickcast.features.spec import FeatureSpec
from tickcast.models.forecasters import Forecaster, LinearModel
from tickcast.models.quantile_models import QuantileModel

_COEFFICIENTS = "linear.npz"


@dataclass(frozen=True)
class RidgeFamily:
    name: str = "ridge"
    description: str = "ridge regression on the window's last sessions, flattened"
    network: bool = False
    reads_training_forecasts: bool = True  # its intervals are its training residuals'

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
        def ridge(x: np.ndarray, y: np.ndarray) -> LinearModel:
            from sklearn.linear_model import Ridge

            # LSQR works on the float32 inputs as they are; the default Cholesky solve forms X'X
            # in float32, where exactly collinear features (relative_return = log_return -
            # market_return, macd_hist = macd - macd_signal) make it ill-conditioned: a
            # LinAlgWarning and coefficients off by a tenth. LSQR matches a float64 solve and is
            # 3x faster.
            fitted = Ridge(alpha=params.ridge_alpha, solver="lsqr").fit(x, y)
            return LinearModel(np.asarray(fitted.coef_, np.float64), float(fitted.intercept_))

        return fit_tabular(arrays, data, params, loop, ridge, on_epoch)

    def interval_model(
        self,
        trained: TrainedModel,
        arrays: DatasetArrays,
        data: TrainingData,
        evidence: IntervalEvidence,
        seed: int,
    ) -> QuantileModel:
        return residual_quantiles(evidence)

    def save(self, directory: Path, forecaster: Forecaster) -> dict[str, object]:
        model, stored = tabular_state(forecaster, self.name)
        if not isinstance(model, LinearModel):
            raise TypeError(f"a ridge bundle holds a linear model, not a {type(model).__name__}")
        np.savez(
            directory / _COEFFICIENTS, coefficients=model.coefficients, intercept=model.intercept
        )
        return stored

    def load(
        self, directory: Path, meta: dict[str, Any], params: ModelParams, spec: FeatureSpec
    ) -> Forecaster:
        with np.load(directory / _COEFFICIENTS) as stored:
            model = LinearModel(stored["coefficients"], float(stored["intercept"]))
        return tabular_forecaster(model, meta)


RIDGE = RidgeFamily()
