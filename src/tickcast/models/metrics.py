"""Forecast metrics, used everywhere a forecast is judged: on price, on direction, and against
persistence (tomorrow's close = today's close) on exactly the same rows."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel


class ForecastMetrics(BaseModel):
    """Pooled over every (day, ticker) with a known outcome."""

    samples: int
    mae: float  # price units
    rmse: float
    mape: float  # percent
    direction_accuracy: float  # share of rows whose predicted sign (up: > 0) matched
    up_rate: float  # share of up moves: the accuracy of always saying "up"
    mase: float  # mae / persistence mae on the same rows; < 1 beats persistence
    persistence_mae: float
    return_rmse: float  # on log returns, the training loss scale

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{key}": float(value) for key, value in self.model_dump().items()}


def forecast_metrics(
    predicted: np.ndarray, actual: np.ndarray, last_close: np.ndarray
) -> ForecastMetrics:
    """Metrics of predicted log returns against actual ones; prices are close x exp(return)."""
    predicted, actual, last_close = (
        np.asarray(a, dtype=np.float64) for a in (predicted, actual, last_close)
    )
    if not predicted.shape == actual.shape == last_close.shape:
        raise ValueError(f"shapes differ: {predicted.shape}, {actual.shape}, {last_close.shape}")
    known = np.isfinite(actual) & np.isfinite(predicted) & np.isfinite(last_close)
    if not known.any():
        raise ValueError("no row has a known outcome")
    predicted, actual, last_close = predicted[known], actual[known], last_close[known]
    actual_price = last_close * np.exp(actual)
    error = last_close * np.exp(predicted) - actual_price
    persistence_error = last_close - actual_price
    mae, persistence_mae = float(np.abs(error).mean()), float(np.abs(persistence_error).mean())
    return ForecastMetrics(
        samples=int(known.sum()),
        mae=mae,
        rmse=float(np.sqrt((error**2).mean())),
        mape=float((np.abs(error) / actual_price).mean() * 100),
        direction_accuracy=float(((predicted > 0) == (actual > 0)).mean()),
        up_rate=float((actual > 0).mean()),
        mase=mae / persistence_mae if persistence_mae > 0 else float("nan"),
        persistence_mae=persistence_mae,
        return_rmse=float(np.sqrt(((predicted - actual) ** 2).mean())),
    )
