"""Judging predictions on a part of a dataset version, always next to persistence."""

from __future__ import annotations

import numpy as np

from tickcast.features.dataset import DatasetArrays
from tickcast.models.metrics import ForecastMetrics, forecast_metrics


def score(
    arrays: DatasetArrays, anchors: list[int], predicted: np.ndarray, cost_bps: float
) -> ForecastMetrics:
    """Metrics of predicted log returns (samples, stocks) for the anchor rows."""
    return forecast_metrics(
        predicted, arrays.targets(anchors), arrays.matrix.close[anchors], cost_bps=cost_bps
    )


def persistence_metrics(
    arrays: DatasetArrays, anchors: list[int], cost_bps: float
) -> ForecastMetrics:
    """The baseline: a zero log return everywhere (its MASE is 1 by construction)."""
    return score(arrays, anchors, np.zeros((len(anchors), len(arrays.matrix.tickers))), cost_bps)
