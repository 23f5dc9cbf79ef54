"""What a model needs to rebuild its own inputs for any ticker: features, warm-up, policy, windows.

No ticker list: models are trained on pooled (ticker, session) samples of scale-free features,
so they forecast any ticker with enough fresh history, including one they never saw.
"""

from __future__ import annotations

from pydantic import BaseModel

from tickcast.config import DatasetSettings, FeatureSettings


class FeatureSpec(BaseModel):
    """Carried by every trained model, so a predictor never guesses a feature order."""

    dataset_id: str
    features: list[str]  # the model's inputs, in order (after any correlation filter)
    feature_settings: FeatureSettings  # what computes them (indicators, cross-section, market)
    warmup_sessions: int
    horizon: int
    sequence_length: int
    policy: DatasetSettings
