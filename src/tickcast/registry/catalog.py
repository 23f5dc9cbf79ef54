"""Reading the registry: versions with their lineage, metrics and promotion state."""

from __future__ import annotations

from typing import Any

from tickcast.config import Settings
from tickcast.db.connection import open_connection
from tickcast.db.migrate import ensure_schema
from tickcast.db.promotions import promotion_history
from tickcast.registry.aliases import production_version, registered_version
from tickcast.registry.tracking import configure_mlflow

SHOWN_METRICS = (
    "test_mase",
    "test_mape",
    "test_direction_accuracy",
    "test_up_rate",
    "test_rank_ic",
    "test_rank_ic_t",
    "test_ic_sessions",
    "test_ic_sessions_offered",
    "test_reversal_mase",
    "test_reversal_rank_ic",
    "test_market_mase",
    "validation_mase",
)


def registered_version_count(settings: Settings) -> int:
    """How many versions `mlflow.model_name` has (0: not registered)."""
    client = configure_mlflow(settings)
    return len(client.search_model_versions(f"name = '{settings.mlflow.model_name}'"))


def list_versions(settings: Settings) -> list[dict[str, Any]]:
    """Registered versions, newest first, with the run's headline test metrics."""
    client = configure_mlflow(settings)
    current = production_version(client, settings)
    rows = []
    for found in client.search_model_versions(f"name = '{settings.mlflow.model_name}'"):
        run = client.get_run(str(found.run_id))
        rows.append(
            {
                "version": int(found.version),
                "production": int(found.version) == current,
                "created": found.creation_timestamp,
                "run_id": found.run_id,
                "dataset_id": run.data.params.get("dataset_id"),
                "family": run.data.params.get("family") or run.data.params.get("architecture"),
                "promotion": found.tags.get("tickcast.promotion", ""),
                "test_not_judged": run.data.tags.get("tickcast.test_not_judged"),
                **{name: run.data.metrics.get(name) for name in SHOWN_METRICS},
            }
        )
    return sorted(rows, key=lambda row: -row["version"])


def version_details(settings: Settings, version: int) -> dict[str, Any]:
    """Params, metrics, tags and the audit rows of one version."""
    client = configure_mlflow(settings)
    found = registered_version(client, settings, version)
    run = client.get_run(str(found.run_id))
    with open_connection(settings) as conn:
        ensure_schema(conn)
        audit = [
            row
            for row in promotion_history(conn, settings.mlflow.model_name, limit=500)
            if version
            in (row["candidate_version"], row["production_before"], row["production_after"])
        ]
    return {
        "version": version,
        "production": production_version(client, settings) == version,
        "run_id": found.run_id,
        "params": dict(run.data.params),
        "metrics": dict(run.data.metrics),
        "tags": dict(found.tags),
        "audit": audit,
    }
