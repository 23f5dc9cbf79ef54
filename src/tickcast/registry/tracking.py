"""Pointing MLflow at the configured store, quietly, with artifacts under the artifact root."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from tickcast import __version__
from tickcast.artifacts import artifact_uri
from tickcast.config import Settings


def configure_mlflow(settings: Settings) -> MlflowClient:
    """Set the tracking URI and experiment (created with its artifacts under artifacts.root)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # no INFO chatter about table upgrades
    uri = settings.mlflow.tracking_uri
    use_tracking_uri(uri)
    client = MlflowClient(uri, uri)
    if client.get_experiment_by_name(settings.mlflow.experiment) is None:
        client.create_experiment(
            settings.mlflow.experiment, artifact_location=artifact_uri(settings, "mlflow")
        )
    mlflow.set_experiment(settings.mlflow.experiment)
    return client


def registry_client(settings: Settings) -> MlflowClient:
    """A client for reading the registry (no experiment set up: nothing is logged with it)."""
    use_tracking_uri(settings.mlflow.tracking_uri)
    return MlflowClient(settings.mlflow.tracking_uri, settings.mlflow.tracking_uri)


def use_tracking_uri(uri: str) -> None:
    """Point MLflow's tracking and registry at `uri` (a SQLite file's folder is created)."""
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)


def code_version() -> str:
    """The git commit tickcast runs from, else its package version."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}"


def log_report(
    settings: Settings,
    run_name: str,
    params: dict[str, object],
    metrics: dict[str, float],
    artifacts: dict[str, object],
) -> str:
    """One MLflow run holding a report: params, metrics, and text or matplotlib artifacts
    (by file name). Returns the run id."""
    from matplotlib.figure import Figure

    configure_mlflow(settings)
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.set_tag("tickcast.kind", "report")
        for name, content in artifacts.items():
            if isinstance(content, Figure):
                mlflow.log_figure(content, name)
            else:
                mlflow.log_text(str(content), name)
    return str(run.info.run_id)
