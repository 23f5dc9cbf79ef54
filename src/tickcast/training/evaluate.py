"""Judging predictions on a part of a dataset version, always next to persistence."""

from __future__ import annotations

import numpy as np

from tickcast.features.dataset import DatasetArrays, DatasetVersion
from tickcast.models.metrics import ForecastMetrics, forecast_metrics


def part_anchors(version: DatasetVersion, part: str) -> list[int]:
    """Anchor rows of `part` (train, validation or test)."""
    split = version.splits[part]
    return list(range(split.first_row, split.last_row + 1))


def score(arrays: DatasetArrays, anchors: list[int], predicted: np.ndarray) -> ForecastMetrics:
    """Metrics of predicted log returns (samples, stocks) for the anchor rows."""
    return forecast_metrics(predicted, arrays.targets(anchors), arrays.matrix.close[anchors])


def persistence_metrics(arrays: DatasetArrays, anchors: list[int]) -> ForecastMetrics:
    """The baseline: a zero log return everywhere (its MASE is 1 by construction)."""
    return score(arrays, anchors, np.zeros((len(anchors), len(arrays.matrix.tickers))))
