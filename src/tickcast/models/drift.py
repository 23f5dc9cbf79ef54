"""Feature drift: the population stability index (PSI) of recent values against a reference
distribution, on quantile bins of the reference."""

from __future__ import annotations

import numpy as np


def reference_bins(reference: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Quantile bin edges of the finite reference values (outer edges open) and each bin's share
    (empty edges when there is no finite value)."""
    reference = reference[np.isfinite(reference)]
    if len(reference) == 0:
        return np.empty(0), np.empty(0)
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    expected: np.ndarray = np.histogram(reference, edges)[0] / len(reference)
    return edges, expected


def stability(edges: np.ndarray, expected: np.ndarray, recent: np.ndarray) -> float:
    """PSI = sum (recent% - reference%) * ln(recent% / reference%) over the reference bins."""
    recent = recent[np.isfinite(recent)]
    if len(edges) == 0 or len(recent) == 0:
        return float("nan")
    actual = np.histogram(recent, edges)[0] / len(recent)
    expected, actual = np.clip(expected, 1e-4, None), np.clip(actual, 1e-4, None)
    return float(((actual - expected) * np.log(actual / expected)).sum())


def population_stability(reference: np.ndarray, recent: np.ndarray, bins: int) -> float:
    """PSI of `recent` against `reference` on `bins` quantile bins of the reference."""
    return stability(*reference_bins(reference, bins), recent)
