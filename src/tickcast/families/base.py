"""What a model family is to the rest of tickcast: how it learns on a dataset version's pooled
samples, what its intervals come from, and how its fitted state is stored in a bundle and read
back. Families are found by name in the `tickcast.families` entry-point group
(`tickcast.families.registry`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tickcast.config import IntervalSettings, ModelParams, TrainingSettings
from tickcast.families.trained import EpochCallback, TrainedModel, TrainingData
from tickcast.features.dataset_version import DatasetArrays
from tickcast.features.spec import FeatureSpec
from tickcast.models.calibration import Calibration
from tickcast.models.forecasters import Forecaster
from tickcast.models.quantile_models import QuantileModel, ResidualQuantiles


@dataclass(frozen=True)
class IntervalEvidence:
    """What an interval model is fitted from, per part (train, validation, test): each sample's
    session row, recent volatility, realised return and raw point forecast (the training part's
    only for a family that reads them), at the interval settings' levels, and the point
    calibration fitted on validation."""

    levels: list[float]
    sessions: dict[str, np.ndarray]
    volatility: dict[str, np.ndarray]
    actual: dict[str, np.ndarray]
    point: dict[str, np.ndarray]
    calibration: Calibration


def residual_quantiles(evidence: IntervalEvidence) -> ResidualQuantiles:
    """The interval model of a family that has nothing better: the quantiles of its training
    residuals from the calibrated forecast in units of recent volatility (needs
    `reads_training_forecasts`)."""
    actual, volatility = evidence.actual["train"], evidence.volatility["train"]
    centre = evidence.calibration.apply(evidence.point["train"], evidence.sessions["train"])
    known = np.isfinite(volatility) & np.isfinite(actual) & np.isfinite(centre)
    standardised = (actual - centre)[known] / volatility[known]
    return ResidualQuantiles(np.quantile(standardised, evidence.levels), evidence.calibration)


class Family(Protocol):
    """A model family behind one interface."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def network(self) -> bool:
        """Trained in epochs with torch (a GPU helps; a search gives its trials GPUs)."""
        ...

    @property
    def reads_training_forecasts(self) -> bool:
        """Its interval model reads the point forecasts of the training samples."""
        ...

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
        """Fit on `data.train`, selected on `data.validation`; with `intervals`, anything the
        interval model must learn during training (a network's quantile head)."""
        ...

    def interval_model(
        self,
        trained: TrainedModel,
        arrays: DatasetArrays,
        data: TrainingData,
        evidence: IntervalEvidence,
        seed: int,
    ) -> QuantileModel:
        """The raw quantile model of the next log return (calibrated afterwards)."""
        ...

    def save(self, directory: Path, forecaster: Forecaster) -> dict[str, object]:
        """Write the fitted state into the bundle `directory`; what the bundle's model.json
        must keep to read it back."""
        ...

    def load(
        self, directory: Path, meta: dict[str, Any], params: ModelParams, spec: FeatureSpec
    ) -> Forecaster:
        """The forecaster a bundle written by `save` holds."""
        ...
