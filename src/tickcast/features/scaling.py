"""Per-feature standardisation, pooled over every ticker, fitted on training sessions only: one
scaler serves every ticker, including one the model never saw."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A feature with (almost) no spread in training is centred but not stretched.
_MIN_STD = 1e-12


@dataclass(frozen=True)
class Scalers:
    mean: np.ndarray  # (features,)
    std: np.ndarray  # (features,)


def fit_scalers(values: np.ndarray, rows: range) -> Scalers:
    """Mean and standard deviation over `rows` of (sessions, tickers, features), every ticker
    pooled, ignoring NaN (undefined cells)."""
    training = values[rows.start : rows.stop].reshape(-1, values.shape[-1]).astype(np.float64)
    mean = np.nanmean(training, axis=0)
    std = np.nanstd(training, axis=0)
    std = np.where(np.isfinite(std) & (std > _MIN_STD), std, 1.0)
    return Scalers(mean=np.nan_to_num(mean), std=std)


def scale(values: np.ndarray, scalers: Scalers) -> np.ndarray:
    """Standardised float32 values; undefined (NaN) values become 0, the training mean."""
    scaled: np.ndarray = np.nan_to_num((values - scalers.mean) / scalers.std, nan=0.0)
    return scaled.astype(np.float32)
