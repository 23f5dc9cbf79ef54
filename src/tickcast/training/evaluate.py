"""Judging predictions on a part of a dataset version, always next to persistence."""

from __future__ import annotations

import numpy as np

from tickcast.features.dataset import DatasetArrays
from tickcast.features.samples import Samples
from tickcast.models.metrics import ForecastMetrics, forecast_metrics


def score(
    arrays: DatasetArrays, samples: Samples, predicted: np.ndarray, cost_bps: float
) -> ForecastMetrics:
    """Metrics of predicted log returns (samples,), across tickers per session for the ICs."""
    return forecast_metrics(
        predicted,
        arrays.targets(samples),
        arrays.close(samples),
        sessions=samples.rows,
        tickers=samples.columns,
        cost_bps=cost_bps,
    )


def persistence_metrics(
    arrays: DatasetArrays, samples: Samples, cost_bps: float
) -> ForecastMetrics:
    """The baseline: a zero log return everywhere (its MASE is 1 by construction)."""
    return score(arrays, samples, np.zeros(len(samples)), cost_bps)
