"""The model families behind one call: predict(windows, sessions) -> log returns (samples,).

`windows` are scaled pooled windows (samples, sequence, features); `sessions` (samples,) group
the samples that share a session. Networks (the LSTM variants) run one forward pass per session,
so a sample's forecast never depends on which other sessions it was computed with; the tabular
families (ridge, LightGBM) read the window's last `sessions_used` sessions, flattened.
Forecasts are the models' raw ones; the bundle applies the calibration. The networks' forecaster
lives in `tickcast.models.network_forecaster` (it needs torch; these do not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class Forecaster(Protocol):
    def predict(self, windows: np.ndarray, sessions: np.ndarray) -> np.ndarray: ...


@dataclass
class TabularForecaster:
    model: Any  # anything with predict(X): sklearn's Ridge, a LightGBM Booster
    sessions_used: int
    target_scale: float

    def predict(self, windows: np.ndarray, sessions: np.ndarray) -> np.ndarray:
        if len(windows) == 0:
            return np.zeros(0)
        return self.predict_tabular(tabular(windows, self.sessions_used))

    def predict_tabular(self, x: np.ndarray) -> np.ndarray:
        """Log returns for rows already laid out by `tabular`."""
        predicted = np.asarray(self.model.predict(x))
        return predicted.astype(np.float64) * self.target_scale


@dataclass
class LinearModel:
    """A fitted linear model's coefficients (what ridge regression leaves), without sklearn."""

    coefficients: np.ndarray  # (inputs,)
    intercept: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        predicted: np.ndarray = x.astype(np.float64) @ self.coefficients + self.intercept
        return predicted


@dataclass
class PersistenceForecaster:
    """Tomorrow's close = today's close: a zero log return for every sample."""

    def predict(self, windows: np.ndarray, sessions: np.ndarray) -> np.ndarray:
        return np.zeros(len(windows))


def tabular(windows: np.ndarray, sessions_used: int) -> np.ndarray:
    """The last `sessions_used` sessions of each window, flattened: (samples, used x features)."""
    used = min(sessions_used, windows.shape[1])
    flat: np.ndarray = (
        windows[:, -used:, :].reshape(len(windows), -1).astype(np.float32, copy=False)
    )
    return flat


def session_groups(sessions: np.ndarray) -> list[np.ndarray]:
    """Positions of the samples of each session, sessions in ascending order."""
    sessions = np.asarray(sessions)
    order = np.argsort(sessions, kind="stable")
    boundaries = np.flatnonzero(np.diff(sessions[order])) + 1
    return [group for group in np.split(order, boundaries) if len(group)]
