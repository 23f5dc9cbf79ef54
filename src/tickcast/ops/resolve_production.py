"""The "resolve production" step: what the production alias points at, if anything."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from tickcast.config import Settings
from tickcast.db.connection import open_connection
from tickcast.db.datasets import get_dataset
from tickcast.ops.results import ProductionModel
from tickcast.registry.aliases import model_uri, production_version
from tickcast.registry.tracking import configure_mlflow, use_tracking_uri

if TYPE_CHECKING:  # the bundle needs torch; resolving the alias does not (a step of its own)
    from tickcast.registry.bundle import ForecasterBundle


def resolve_production(settings: Settings) -> ProductionModel | None:
    """The production version's lineage; None when no model has been promoted yet (bootstrap)."""
    client = configure_mlflow(settings)
    version = production_version(client, settings)
    if version is None:
        return None
    found = client.get_model_version(settings.mlflow.model_name, str(version))
    run = client.get_run(str(found.run_id))
    dataset_id = run.data.params["dataset_id"]
    with open_connection(settings) as conn:
        dataset = get_dataset(conn, dataset_id)
    return ProductionModel(
        model_name=settings.mlflow.model_name,
        version=version,
        run_id=str(found.run_id),
        dataset_id=dataset_id,
        tickers=list(dataset["tickers"]) if dataset else [],
        created_at=int(found.creation_timestamp or 0),
    )


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
