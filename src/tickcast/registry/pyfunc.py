"""The MLflow pyfunc wrapper: a logged tickcast model loads back as a working predictor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from mlflow.models import ModelSignature
from mlflow.pyfunc import load_model
from mlflow.pyfunc.model import PythonModel
from mlflow.types import Schema, TensorSpec

from tickcast.features.spec import FeatureSpec
from tickcast.registry.bundle import ForecasterBundle, load_bundle


class TickcastForecaster(PythonModel):  # type: ignore[misc]  # MLflow's classes are Any to mypy
    """predict(windows) -> log returns, the windows taken as one session's tickers; `bundle`
    exposes the spec and scalers to build windows (and predicts several sessions at once)."""

    bundle: ForecasterBundle

    def load_context(self, context: Any) -> None:
        self.bundle = load_bundle(Path(context.artifacts["bundle"]))

    # An ndarray hint is one MLflow infers no schema from (the logged signature's tensor shapes
    # describe the input) and does not warn about, as it does for a missing hint.
    def predict(
        self, context: Any, model_input: np.ndarray, params: dict[str, Any] | None = None
    ) -> np.ndarray:
        return self.bundle.predict(np.asarray(model_input))


def signature(spec: FeatureSpec) -> ModelSignature:
    """Windows in (one per ticker), log returns out, with the shapes the model was trained on."""
    window = (-1, spec.sequence_length, len(spec.features))
    return ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float32), window)]),
        outputs=Schema([TensorSpec(np.dtype(np.float64), (-1,))]),
    )


def load_forecaster(model_uri: str) -> ForecasterBundle:
    """The bundle inside a logged model (e.g. models:/tickcast-forecaster@production)."""
    loaded = load_model(model_uri)
    forecaster: TickcastForecaster = loaded.unwrap_python_model()
    return forecaster.bundle
