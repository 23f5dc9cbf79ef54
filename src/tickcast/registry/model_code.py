"""Logged as the model's code ("models from code"): MLflow runs this file to load a tickcast
model, instead of unpickling an object. The bundle artifact carries the weights and spec."""

from mlflow.models import set_model

from tickcast.registry.pyfunc import TickcastForecaster

set_model(TickcastForecaster())
