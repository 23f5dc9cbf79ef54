"""What every family's training produces and reads: the samples and targets it learns from, the
fitted model with its epoch history, and its validation error."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tickcast.config import ModelParams
from tickcast.features.dataset_version import DatasetArrays, DatasetVersion
from tickcast.features.samples import Samples
from tickcast.models.forecasters import Forecaster


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train_loss: float
    validation_loss: float
    seconds: float
    # With a quantile head: its mean pinball loss on validation (returns in volatility units);
    # the epoch kept is the one with the lowest validation_loss + validation_pinball
    validation_pinball: float | None = None

    @property
    def selection_loss(self) -> float:
        return self.validation_loss + (self.validation_pinball or 0.0)


@dataclass
class TrainedModel:
    """A fitted forecaster with its training history (losses on scaled targets)."""

    forecaster: Forecaster
    params: ModelParams
    history: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0
    # Boosted trees: the round early stopping kept (1: stopped at the first tree)
    best_iteration: int | None = None
    # A network's quantile head (weight (levels, hidden), bias (levels,)), trained with it
    quantile_head: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def best_validation_loss(self) -> float:
        return min((r.validation_loss for r in self.history), default=float("nan"))


# Called after every epoch; raising (e.g. optuna.TrialPruned) stops the training.
EpochCallback = Callable[[EpochRecord], None]


@dataclass(frozen=True)
class TrainingData:
    """The training and validation samples with the targets a model learns (raw or demeaned)."""

    train: Samples
    validation: Samples
    train_targets: np.ndarray
    validation_targets: np.ndarray
    target_scale: float  # the training targets' standard deviation: models learn target / it


def training_data(version: DatasetVersion, arrays: DatasetArrays) -> TrainingData:
    """The samples and the targets the version's `dataset.target` asks a model to learn: the raw
    forward log return, the same less its session's mean (demeaned), or its centred rank among
    the session's tickers (rank); scored and calibrated against the raw return either way."""
    kind = version.config.get("dataset", {}).get("target", "raw")

    def targets(samples: Samples) -> np.ndarray:
        if kind == "rank":
            ranked: np.ndarray = arrays.session_rank_targets[samples.rows, samples.columns]
            return ranked
        values = arrays.targets(samples)
        return values - arrays.session_mean_targets[samples.rows] if kind == "demeaned" else values

    train = arrays.samples(version.rows("train"))
    validation = arrays.samples(version.rows("validation"))
    train_targets = targets(train)
    return TrainingData(
        train,
        validation,
        train_targets,
        targets(validation),
        float(np.nanstd(train_targets)) or 1.0,
    )


def seed_everything(seed: int) -> None:
    """Python's and NumPy's generators (a network's training seeds torch's as well)."""
    random.seed(seed)
    np.random.seed(seed)


def validation_mse(forecaster: Forecaster, arrays: DatasetArrays, data: TrainingData) -> float:
    """Mean squared error on scaled targets over the validation samples."""
    predicted = arrays.predict(forecaster, data.validation)
    error = (predicted - data.validation_targets) / data.target_scale
    return float(np.nanmean(error**2)) if len(error) else float("nan")
