"""Training any family on a dataset version's pooled samples: the family named by the model
parameters fits itself (`tickcast.families`)."""

from __future__ import annotations

from tickcast.config import IntervalSettings, ModelParams, TrainingSettings
from tickcast.families.registry import family
from tickcast.families.trained import EpochCallback, TrainedModel, TrainingData, training_data
from tickcast.features.dataset_version import DatasetArrays, DatasetVersion


def train_model(
    version: DatasetVersion,
    arrays: DatasetArrays,
    params: ModelParams,
    loop: TrainingSettings,
    on_epoch: EpochCallback | None = None,
    show_progress: bool = False,
    intervals: IntervalSettings | None = None,
    data: TrainingData | None = None,
) -> TrainedModel:
    """Fit `params.family` on the version's training samples, selected on validation;
    with `intervals`, what its interval model learns during training too (a network's quantile
    head; the other families fit theirs afterwards: `tickcast.training.intervals`). `data`: the
    version's training data when the caller holds it already."""
    return family(params.family).fit(
        arrays,
        data or training_data(version, arrays),
        params,
        loop,
        on_epoch=on_epoch,
        show_progress=show_progress,
        intervals=intervals,
    )
