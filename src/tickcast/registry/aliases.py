"""The production alias of the registered model."""

from __future__ import annotations

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from tickcast.config import Settings


def production_version(client: MlflowClient, settings: Settings) -> int | None:
    """The version the production alias points at; None when there is none yet."""
    try:
        found = client.get_model_version_by_alias(
            settings.mlflow.model_name, settings.mlflow.production_alias
        )
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    return int(found.version)


def model_uri(settings: Settings, version: int) -> str:
    return f"models:/{settings.mlflow.model_name}/{version}"
