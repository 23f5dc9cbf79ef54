"""A model family that lives outside tickcast, registered only through the `tickcast.families`
entry points (this folder's `seasonal_family-0.1.dist-info`, found on the path the tests put it
on): seasonal naive, tomorrow's log return is the one `tabular_sessions` sessions back. It proves
the seam: it trains, registers, serves and backtests with no change in tickcast."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tickcast.config import IntervalSettings, ModelParams, TrainingSettings
from tickcast.families.base import IntervalEvidence, residual_quantiles
from tickcast.families.trained import (
    EpochCallback,
    EpochRecord,
    TrainedModel,
    TrainingData,
    validation_mse,
)
from tickcast.features.dataset_version import DatasetArrays
from tickcast.features.spec import FeatureSpec
from tickcast.models.forecasters import Forecaster
from tickcast.models.quantile_models import QuantileModel

_STATE = "seasonal.json"


@dataclass(frozen=True)
class LaggedReturn:
    """The log return `lag` sessions before the window's end, unscaled."""

    column: int  # of log_return among the features
    lag: int
    mean: float
    std: float

    def predict(self, windows: np.ndarray, sessions: np.ndarray) -> np.ndarray:
        scaled = np.asarray(windows[:, -self.lag, self.column], np.float64)
        return scaled * self.std + self.mean


@dataclass(frozen=True)
class SeasonalNaive:
    name: str = "seasonal_naive"
    description: str = "tomorrow's log return is the one tabular_sessions sessions back"
    network: bool = False
    reads_training_forecasts: bool = True

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
        started = time.perf_counter()
        column = arrays.matrix.features.index("log_return")
        forecaster = LaggedReturn(
            column,
            min(params.tabular_sessions, arrays.sequence_length),
            float(arrays.scalers.mean[column]),
            float(arrays.scalers.std[column]),
        )
        loss = validation_mse(forecaster, arrays, data)
        record = EpochRecord(1, loss, loss, time.perf_counter() - started)
        if on_epoch is not None:
            on_epoch(record)
        return TrainedModel(forecaster, params, [record], 1)

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
        assert isinstance(forecaster, LaggedReturn)
        (directory / _STATE).write_text(json.dumps(forecaster.__dict__))
        return {}

    def load(
        self, directory: Path, meta: dict[str, Any], params: ModelParams, spec: FeatureSpec
    ) -> Forecaster:
        return LaggedReturn(**json.loads((directory / _STATE).read_text()))


SEASONAL = SeasonalNaive()
