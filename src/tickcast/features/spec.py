"""What a model needs to rebuild its own inputs: tickers, features, panel start, policy, windows."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from tickcast.config import DatasetSettings


class FeatureSpec(BaseModel):
    """Carried by every trained model, so a predictor never guesses a feature order or start."""

    dataset_id: str
    tickers: list[str]
    features: list[str]
    panel_start: date
    warmup_sessions: int
    horizon: int
    sequence_length: int
    policy: DatasetSettings
