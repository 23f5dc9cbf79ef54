"""The LSTM variants behind the Forecaster interface: one forward pass per session, so a sample's
forecast never depends on which other sessions it was computed with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tickcast.models.forecasters import session_groups


@dataclass
class NetworkForecaster:
    network: nn.Module
    target_scale: float  # outputs x target_scale = log returns

    def predict(self, windows: np.ndarray, sessions: np.ndarray) -> np.ndarray:
        return self.forward_pass(windows, sessions)[0]

    def represent(self, windows: np.ndarray, sessions: np.ndarray) -> np.ndarray:
        """What the network's head reads (samples, hidden)."""
        return self.forward_pass(windows, sessions)[1]

    @torch.no_grad()
    def forward_pass(
        self, windows: np.ndarray, sessions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Forecasts of the log return (samples,) and what the head read (samples, hidden), one
        forward pass per session."""
        self.network.eval()
        device = next(self.network.parameters(), torch.empty(0)).device
        returns = np.empty(len(windows), dtype=np.float64)
        represented: np.ndarray | None = None
        for group in session_groups(sessions):
            x = torch.from_numpy(np.ascontiguousarray(windows[group], dtype=np.float32)).to(device)
            s = torch.from_numpy(np.asarray(sessions)[group].astype(np.int64)).to(device)
            read = self.network.represent(x, s)  # type: ignore[operator]
            returns[group] = self.network.read(read).float().cpu().numpy()  # type: ignore[operator]
            if represented is None:
                represented = np.empty((len(windows), read.shape[1]), np.float32)
            represented[group] = read.float().cpu().numpy()
        if represented is None:
            represented = np.zeros((0, 0), np.float32)
        return returns * self.target_scale, represented
