"""The production alias and the versions of the registered model."""

from __future__ import annotations

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from tickcast.config import Settings
from tickcast.registry.errors import PromotionError


def production_version(client: MlflowClient, settings: Settings) -> int | None:
    """The version the production alias points at; None when there is none yet."""
    found = production_model_version(client, settings)
    return int(found.version) if found is not None else None


def production_model_version(client: MlflowClient, settings: Settings) -> ModelVersion | None:
    """The registered version the production alias points at; None when there is none yet."""
    try:
        return client.get_model_version_by_alias(
            settings.mlflow.model_name, settings.mlflow.production_alias
        )
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def registered_version(client: MlflowClient, settings: Settings, version: int) -> ModelVersion:
    """Version `version` of the registered model; PromotionError when there is no such version."""
    try:
        return client.get_model_version(settings.mlflow.model_name, str(version))
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise PromotionError(
                f"{settings.mlflow.model_name} has no version {version} "
                "(`tickcast model list` shows the registered ones)"
            ) from None
        raise


def model_uri(settings: Settings, version: int) -> str:
    return f"models:/{settings.mlflow.model_name}/{version}"
