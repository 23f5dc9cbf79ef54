"""The "resolve production" step: what the production alias points at, if anything."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from tickcast.config import Settings
from tickcast.db.connection import open_connection
from tickcast.db.datasets import get_dataset
from tickcast.ops.results import ProductionModel
from tickcast.registry.aliases import model_uri, production_model_version
from tickcast.registry.tracking import registry_client, use_tracking_uri

if TYPE_CHECKING:  # the bundle needs torch; resolving the alias does not (a step of its own)
    from mlflow import MlflowClient

    from tickcast.registry.bundle import ForecasterBundle


def resolve_production(settings: Settings) -> ProductionModel | None:
    """The production version's lineage; None when no model has been promoted yet (bootstrap)."""
    client = registry_client(settings)
    found = production_model_version(client, settings)
    if found is None:
        return None
    dataset_id, tickers = _lineage(settings, client, str(found.run_id))
    return ProductionModel(
        model_name=settings.mlflow.model_name,
        version=int(found.version),
        run_id=str(found.run_id),
        dataset_id=dataset_id,
        tickers=list(tickers),
        created_at=int(found.creation_timestamp or 0),
    )


# (tracking URI, database, run id) -> (dataset id, tickers): fixed once a run is logged (its
# dataset version is content-addressed), so read once per process.
_LINEAGE: dict[tuple[str, str, str], tuple[str, tuple[str, ...]]] = {}


def _lineage(settings: Settings, client: MlflowClient, run_id: str) -> tuple[str, tuple[str, ...]]:
    """The dataset version a run trained on and its tickers."""
    key = (settings.mlflow.tracking_uri, settings.database.model_dump_json(), run_id)
    if (known := _LINEAGE.get(key)) is not None:
        return known
    dataset_id = client.get_run(run_id).data.params["dataset_id"]
    with open_connection(settings) as conn:
        dataset = get_dataset(conn, dataset_id)
    if dataset is None:
        return dataset_id, ()
    _LINEAGE[key] = dataset_id, tuple(dataset["tickers"])
    return _LINEAGE[key]


def load_production_bundle(settings: Settings, production: ProductionModel) -> ForecasterBundle:
    """The production version's bundle, loaded once per process: a registered version's files
    never change (the key holds its run, so a new store reusing the number loads afresh)."""
    return _load_bundle(
        model_uri(settings, production.version), settings.mlflow.tracking_uri, production.run_id
    )


@functools.lru_cache(maxsize=8)
def _load_bundle(uri: str, tracking_uri: str, run_id: str) -> ForecasterBundle:
    from tickcast.registry.pyfunc import load_forecaster

    use_tracking_uri(tracking_uri)  # a models:/ URI is read from the registry at tracking_uri
    return load_forecaster(uri)
