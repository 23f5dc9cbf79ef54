"""The "resolve production" step: what the production alias points at, if anything."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tickcast.config import Settings
from tickcast.db.connection import open_connection
from tickcast.db.datasets import get_dataset
from tickcast.registry.aliases import production_model_version, registered_version
from tickcast.registry.production_model import ProductionModel
from tickcast.registry.tracking import registry_client

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion


def resolve_production(settings: Settings) -> ProductionModel | None:
    """The production version's lineage; None when no model has been promoted yet (bootstrap)."""
    client = registry_client(settings)
    found = production_model_version(client, settings)
    return None if found is None else _described(settings, client, found)


def describe_version(settings: Settings, version: int) -> ProductionModel:
    """Registered version `version` described as the production model would be (what a step
    loads it by); PromotionError when there is no such version."""
    client = registry_client(settings)
    return _described(settings, client, registered_version(client, settings, version))


def _described(settings: Settings, client: MlflowClient, found: ModelVersion) -> ProductionModel:
    dataset_id, tickers, files = _lineage(settings, client, str(found.run_id), int(found.version))
    return ProductionModel(
        model_name=settings.mlflow.model_name,
        version=int(found.version),
        run_id=str(found.run_id),
        dataset_id=dataset_id,
        tickers=list(tickers),
        artifact_uri=files,
        created_at=int(found.creation_timestamp or 0),
    )


# (tracking URI, database, model, version, run id) -> (dataset id, tickers, the logged model's
# files): fixed once a version is registered (its dataset version is content-addressed), so read
# once per process.
_LINEAGE: dict[tuple[str, ...], tuple[str, tuple[str, ...], str]] = {}


def _lineage(
    settings: Settings, client: MlflowClient, run_id: str, version: int
) -> tuple[str, tuple[str, ...], str]:
    """The dataset version a version's run trained on, its tickers and the version's files."""
    name = settings.mlflow.model_name
    key = (settings.mlflow.tracking_uri, settings.database.model_dump_json(), name, str(version))
    if (known := _LINEAGE.get((*key, run_id))) is not None:
        return known
    dataset_id = client.get_run(run_id).data.params["dataset_id"]
    files = client.get_model_version_download_uri(name, str(version))
    with open_connection(settings) as conn:
        dataset = get_dataset(conn, dataset_id)
    if dataset is None:
        return dataset_id, (), files
    _LINEAGE[(*key, run_id)] = dataset_id, tuple(dataset["tickers"]), files
    return _LINEAGE[(*key, run_id)]
