"""The "tune" step: search on a dataset version, record the trial table in PostgreSQL and MLflow."""

from __future__ import annotations

import math
import time
from pathlib import Path

import matplotlib.pyplot as plt
import mlflow
from pydantic import BaseModel

from tickcast.artifacts import search_storage_path
from tickcast.config import ENSEMBLE, ModelParams, Settings
from tickcast.db.connection import open_connection
from tickcast.db.migrate import ensure_schema
from tickcast.db.optimization import latest_search, record_search
from tickcast.features.dataset import load_dataset
from tickcast.registry.plots import search_results
from tickcast.registry.tracking import configure_mlflow
from tickcast.training.tune import TrialRecord, best_trial, search


class TuneResult(BaseModel):
    dataset_id: str
    backend: str
    best_params: ModelParams
    best_validation_loss: float
    trials: list[TrialRecord]
    seconds: float
    mlflow_run_id: str


def tune(settings: Settings, dataset_id: str) -> TuneResult:
    """Search the configured space on the version; the best parameters become the candidate's."""
    tuning = settings.tuning
    version, arrays = load_dataset(settings, dataset_id)
    loop = settings.training.model_copy(update={"max_epochs": tuning.max_epochs})
    storage = local_search_storage(settings)
    configure_mlflow(settings)
    started = time.perf_counter()
    with mlflow.start_run(run_name=f"tune {tuning.backend} on {dataset_id}") as parent:
        mlflow.set_tags({"tickcast.role": "search", "tickcast.dataset_id": dataset_id})
        mlflow.log_params(
            {
                "backend": tuning.backend,
                "trials": tuning.trials,
                "max_epochs": tuning.max_epochs,
                "grace_period": tuning.grace_period,
                "reduction_factor": tuning.reduction_factor,
                "dataset_id": dataset_id,
                "space": tuning.space.model_dump_json(),
            }
        )
        records = search(tuning, version, arrays, loop, storage)
        seconds = time.perf_counter() - started
        for record in records:
            with mlflow.start_run(run_name=f"trial {record.number}", nested=True):
                mlflow.log_params({**record.params.model_dump(), "state": record.state})
                for epoch, loss in enumerate(record.history, start=1):
                    mlflow.log_metric("validation_loss", loss, step=epoch)
        best = best_trial(records)
        chosen = candidate_params(settings, records)
        mlflow.log_params({f"best_{k}": v for k, v in chosen.model_dump().items()})
        mlflow.log_metrics(
            {"best_validation_loss": best.validation_loss or float("nan"), "seconds": seconds}
        )
        figure = search_results(records)
        mlflow.log_figure(figure, "plots/search.png")
        plt.close(figure)
    result = TuneResult(
        dataset_id=dataset_id,
        backend=tuning.backend,
        best_params=chosen,
        best_validation_loss=best.validation_loss or float("nan"),
        trials=records,
        seconds=round(seconds, 3),
        mlflow_run_id=parent.info.run_id,
    )
    with open_connection(settings) as conn:
        ensure_schema(conn)
        record_search(
            conn,
            {
                "dataset_id": dataset_id,
                "backend": tuning.backend,
                "trials": [r.model_dump(mode="json") for r in records],
                "best_params": chosen.model_dump(mode="json"),
                "best_validation_loss": result.best_validation_loss,
                "mlflow_run_id": result.mlflow_run_id,
                "seconds": result.seconds,
            },
        )
    return result


def candidate_params(settings: Settings, records: list[TrialRecord]) -> ModelParams:
    """What the candidate trains after a search: its best trial; or, when training.params names
    the ensemble, the ensemble with each member family's best trial as that member's parameters
    (a member the search did not try keeps the configured ones)."""
    configured = settings.training.params
    if configured.family != ENSEMBLE:
        return best_trial(records).params
    best: dict[str, TrialRecord] = {}
    for record in records:
        loss, name = record.validation_loss, record.params.family
        if loss is None or not math.isfinite(loss) or name not in configured.members:
            continue
        if name not in best or loss < (best[name].validation_loss or math.inf):
            best[name] = record
    searched = {
        name: record.params.model_dump(mode="json", exclude={"family", "members", "member_params"})
        for name, record in best.items()
    }
    return configured.model_copy(update={"member_params": {**configured.member_params, **searched}})


def tuned_params(settings: Settings, dataset_id: str) -> ModelParams | None:
    """The best parameters of the newest search on the version, if one ran."""
    with open_connection(settings) as conn:
        ensure_schema(conn)
        found = latest_search(conn, dataset_id)
    return ModelParams.model_validate(found["best_params"]) if found else None


def local_search_storage(settings: Settings) -> Path:
    """Where a search keeps its local state (Ray's results and session logs), created: see
    `tickcast.artifacts.search_storage_path`."""
    path = search_storage_path(settings)
    path.mkdir(parents=True, exist_ok=True)
    return path
