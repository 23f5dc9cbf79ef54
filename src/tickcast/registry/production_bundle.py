"""The production version's bundle, for the steps that forecast with it (predict, monitor's drift,
serving): read straight from the logged model's files when they are on this machine, so those
steps import no MLflow; through MLflow's loader otherwise (an S3 artifact store)."""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import yaml

from tickcast.config import Settings
from tickcast.registry.bundle import ForecasterBundle, is_bundle, load_bundle
from tickcast.registry.production_model import ProductionModel


def load_production_bundle(settings: Settings, production: ProductionModel) -> ForecasterBundle:
    """The production version's bundle, loaded once per process: a registered version's files
    never change (the key holds its run, so a new store reusing the number loads afresh)."""
    return _load_bundle(
        f"models:/{production.model_name}/{production.version}",
        settings.mlflow.tracking_uri,
        production.run_id,
        production.artifact_uri,
    )


@functools.lru_cache(maxsize=8)
def _load_bundle(uri: str, tracking_uri: str, run_id: str, artifact_uri: str) -> ForecasterBundle:
    local = logged_bundle_directory(artifact_uri)
    if local is not None:
        return load_bundle(local)
    from tickcast.registry.pyfunc import load_forecaster
    from tickcast.registry.tracking import use_tracking_uri

    use_tracking_uri(tracking_uri)  # a models:/ URI is read from the registry at tracking_uri
    return load_forecaster(uri)


def logged_bundle_directory(artifact_uri: str) -> Path | None:
    """The bundle directory inside a logged model at `artifact_uri` when its files are on this
    machine (a file: URI or a path) and its MLmodel names the bundle; None otherwise."""
    parsed = urlparse(artifact_uri)
    if not artifact_uri or parsed.scheme not in ("", "file"):
        return None
    model = Path(url2pathname(parsed.path))
    try:
        described = yaml.safe_load((model / "MLmodel").read_text())
        relative = described["flavors"]["python_function"]["artifacts"]["bundle"]["path"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    directory = model / str(relative)
    return directory if is_bundle(directory) else None
