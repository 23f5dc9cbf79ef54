"""Optional correlation filter: drop a feature too correlated with one already kept."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DroppedFeature:
    feature: str
    correlated_with: str
    correlation: float


def correlation_filter(
    values: np.ndarray, names: list[str], rows: range, threshold: float
) -> tuple[list[str], list[DroppedFeature]]:
    """Keep features in declared order unless |corr| with a kept one exceeds `threshold`.

    Correlations are pooled over the training `rows` of every ticker, so the decision never
    sees validation or test data.
    """
    pooled = values[rows.start : rows.stop].reshape(-1, len(names))
    pooled = pooled[~np.isnan(pooled).any(axis=1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.nan_to_num(np.corrcoef(pooled, rowvar=False))
    kept: list[int] = []
    dropped: list[DroppedFeature] = []
    for index, name in enumerate(names):
        partner = max(kept, key=lambda k: abs(matrix[index, k]), default=None)
        if partner is not None and abs(matrix[index, partner]) > threshold:
            dropped.append(
                DroppedFeature(name, names[partner], round(float(matrix[index, partner]), 6))
            )
        else:
            kept.append(index)
    return [names[i] for i in kept], dropped
