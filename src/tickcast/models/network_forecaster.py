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

    @torch.no_grad()
    def predict(self, windows: np.ndarray, sessions: np.ndarray) -> np.ndarray:
        self.network.eval()
        device = next(self.network.parameters(), torch.empty(0)).device
        returns = np.empty(len(windows), dtype=np.float64)
        for group in session_groups(sessions):
            x = torch.from_numpy(np.ascontiguousarray(windows[group], dtype=np.float32)).to(device)
            s = torch.from_numpy(np.asarray(sessions)[group].astype(np.int64)).to(device)
            returns[group] = self.network(x, s).float().cpu().numpy()
        return returns * self.target_scale

    @torch.no_grad()
    def represent(self, windows: np.ndarray, sessions: np.ndarray) -> np.ndarray:
        """What the network's head reads (samples, hidden), one forward pass per session."""
        self.network.eval()
        device = next(self.network.parameters(), torch.empty(0)).device
        represented: np.ndarray | None = None
        for group in session_groups(sessions):
            x = torch.from_numpy(np.ascontiguousarray(windows[group], dtype=np.float32)).to(device)
            s = torch.from_numpy(np.asarray(sessions)[group].astype(np.int64)).to(device)
            part = self.network.represent(x, s).float().cpu().numpy()  # type: ignore[operator]
            if represented is None:
                represented = np.empty((len(windows), part.shape[1]), np.float32)
            represented[group] = part
        return represented if represented is not None else np.zeros((0, 0), np.float32)
