"""The MLflow pyfunc wrapper: a logged tickcast model loads back as a working predictor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from mlflow.pyfunc import load_model
from mlflow.pyfunc.model import PythonModel

from tickcast.registry.bundle import ForecasterBundle, load_bundle


class TickcastForecaster(PythonModel):
    """predict(windows) -> log returns; `bundle` exposes the spec and scalers to build windows."""

    bundle: ForecasterBundle

    def load_context(self, context: Any) -> None:
        self.bundle = load_bundle(Path(context.artifacts["bundle"]))

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return self.bundle.predict(np.asarray(model_input))


def load_forecaster(model_uri: str) -> ForecasterBundle:
    """The bundle inside a logged model (e.g. models:/tickcast-forecaster@production)."""
    loaded = load_model(model_uri)
    forecaster: TickcastForecaster = loaded.unwrap_python_model()  # type: ignore[no-untyped-call]
    return forecaster.bundle
