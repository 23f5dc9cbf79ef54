"""A trained forecaster on disk: weights, architecture, target scale, calibration, feature spec
and scalers.

Everything a predictor needs travels together, so loading one needs no database and no guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tickcast.config import ModelParams
from tickcast.features.scaling import Scalers
from tickcast.features.spec import FeatureSpec
from tickcast.models.architectures import build_model
from tickcast.training.fit import predict_returns

_WEIGHTS, _META, _SCALERS = "network.pt", "model.json", "scalers.npz"


@dataclass
class ForecasterBundle:
    network: nn.Module
    params: ModelParams
    target_scale: float
    spec: FeatureSpec
    scalers: Scalers
    calibration: float = 1.0  # forecasts x this (tickcast.models.calibration), fitted on validation

    def predict(self, windows: np.ndarray) -> np.ndarray:
        """Log returns (samples, stocks) for scaled windows (samples, sequence, stocks, features)."""
        expected = (self.spec.sequence_length, len(self.spec.tickers), len(self.spec.features))
        if windows.ndim != 4 or tuple(windows.shape[1:]) != expected:
            raise ValueError(
                f"windows must be shaped (samples, {', '.join(map(str, expected))}) "
                f"= (samples, sequence, stocks, features); got {tuple(windows.shape)}"
            )
        raw = predict_returns(
            self.network, windows.astype(np.float32, copy=False), self.target_scale
        )
        return raw * self.calibration


def save_bundle(directory: Path, bundle: ForecasterBundle) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    torch.save(bundle.network.state_dict(), directory / _WEIGHTS)
    meta = {
        "params": bundle.params.model_dump(mode="json"),
        "target_scale": bundle.target_scale,
        "calibration": bundle.calibration,
        "spec": bundle.spec.model_dump(mode="json"),
    }
    (directory / _META).write_text(json.dumps(meta, indent=2))
    np.savez(directory / _SCALERS, mean=bundle.scalers.mean, std=bundle.scalers.std)
    return directory


def load_bundle(directory: Path) -> ForecasterBundle:
    meta = json.loads((directory / _META).read_text())
    params = ModelParams.model_validate(meta["params"])
    spec = FeatureSpec.model_validate(meta["spec"])
    network = build_model(
        params.architecture,
        len(spec.tickers),
        len(spec.features),
        params.hidden_size,
        params.num_layers,
        params.dropout,
    )
    network.load_state_dict(torch.load(directory / _WEIGHTS, map_location="cpu", weights_only=True))
    network.eval()
    with np.load(directory / _SCALERS) as stored:
        scalers = Scalers(mean=stored["mean"], std=stored["std"])
    return ForecasterBundle(
        network,
        params,
        float(meta["target_scale"]),
        spec,
        scalers,
        float(meta.get("calibration", 1.0)),  # bundles from before calibration: as trained
    )
