"""Retention (`tickcast gc`): disk that months of daily runs fill, given back.

- Registered versions: rejected candidates older than `retention.rejected_days` lose their MLflow
  run, its files and their version; promoted versions beyond the kept ones (below) are archived:
  tagged `tickcast.archived`, their model files and run files deleted, never promoted again.
- Dataset versions: the arrays (dataset.npz) of versions that no kept model needs and that are
  older than `retention.dataset_days` are deleted; the catalog row and its report stay, marked
  collected, and building the same version again writes them back. Kept: the datasets of the
  kept versions (production, the `retention.keep_promoted` versions rollbacks walk back to in
  the promotion audit, the last `keep_promoted` promoted) and the newest version.
- Ray's search folders and kfp.local run folders older than `retention.results_days`.

Forecasts, scores, decisions and search results in PostgreSQL are history: never touched.
`dry_run` lists what would go, with its size, and changes nothing.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import fsspec

from tickcast.artifacts import search_storage_path
from tickcast.config import Settings
from tickcast.db.connection import open_connection
from tickcast.db.datasets import promoted_datasets, retention_candidates, set_collected
from tickcast.db.migrate import ensure_schema
from tickcast.db.promotions import last_alias_move_to, promotion_history
from tickcast.registry.aliases import production_version
from tickcast.registry.tracking import configure_mlflow

Kind = Literal[
    "rejected candidate", "archived version", "dataset", "search results", "kfp.local run"
]
ARCHIVED_TAG = "tickcast.archived"


@dataclass(frozen=True)
class Collected:
    kind: Kind
    what: str  # a dataset id, a folder
    bytes: int


@dataclass
class GcReport:
    dry_run: bool
    collected: list[Collected] = field(default_factory=list)
    kept_versions: list[int] = field(default_factory=list)  # whose datasets stay
    kept_datasets: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(item.bytes for item in self.collected)


def collect(settings: Settings, dry_run: bool = False) -> GcReport:
    """Remove what retention allows (nothing with `dry_run`); what went, or would."""
    report = GcReport(dry_run=dry_run)
    promoted = promoted_versions(settings)
    report.kept_versions = kept_versions(settings, promoted)
    _collect_versions(settings, report, set(promoted))
    _collect_datasets(settings, report)
    cutoff = time.time() - settings.retention.results_days * 86_400
    roots: list[tuple[Kind, Path]] = [
        ("search results", search_storage_path(settings)),
        ("kfp.local run", Path(settings.kfp.local_root).expanduser().resolve()),
    ]
    for kind, root in roots:
        for folder in _older_folders(root, cutoff):
            report.collected.append(Collected(kind, str(folder), folder_bytes(folder)))
            if not dry_run:
                shutil.rmtree(folder, ignore_errors=True)
    return report


def promoted_versions(settings: Settings) -> list[int]:
    """Every version the promotion audit says was made production, newest first."""
    with open_connection(settings) as conn:
        ensure_schema(conn)
        return [
            row["candidate_version"]
            for row in promotion_history(conn, settings.mlflow.model_name, 100_000)
            if row["action"] == "promote" and row["promoted"]
        ]


def kept_versions(settings: Settings, promoted: list[int]) -> list[int]:
    """Production, the versions `retention.keep_promoted` rollbacks walk back to (the promotion
    audit), and the last `keep_promoted` of the `promoted` ones (newest first)."""
    model = settings.mlflow.model_name
    current = production_version(configure_mlflow(settings), settings)
    kept: list[int] = []
    depth = settings.retention.keep_promoted + 1  # production and that many rollbacks
    with open_connection(settings) as conn:
        version = current
        while version is not None and version not in kept and len(kept) < depth:
            kept.append(version)
            move = last_alias_move_to(conn, model, version)
            version = None if move is None else move["production_before"]
    for version in promoted[: settings.retention.keep_promoted]:
        if version not in kept:
            kept.append(version)
    return kept


def _collect_versions(settings: Settings, report: GcReport, promoted: set[int]) -> None:
    """Rejected candidates past their days go; `promoted` versions beyond the kept are
    archived. A version not judged yet (a retrain in progress) is left alone."""
    client = configure_mlflow(settings)
    model = settings.mlflow.model_name
    old = (time.time() - settings.retention.rejected_days * 86_400) * 1000
    for found in client.search_model_versions(f"name = '{model}'"):
        version, tags = int(found.version), found.tags or {}
        if version in report.kept_versions or ARCHIVED_TAG in tags:
            continue
        if version in promoted:
            kind: Kind = "archived version"
        elif tags.get("tickcast.promotion") == "rejected" and found.creation_timestamp < old:
            kind = "rejected candidate"
        else:
            continue
        files = _version_files(client, found)
        report.collected.append(
            Collected(kind, f"v{version}", sum(_tree_bytes(uri) for uri in files))
        )
        if report.dry_run:
            continue
        for uri in files:
            _remove_tree(uri)
        if kind == "rejected candidate":
            client.delete_model_version(model, str(version))
            if found.run_id:
                client.delete_run(found.run_id)
        else:
            stamp = f"{datetime.now(UTC):%Y-%m-%d} by tickcast gc (beyond the last promoted kept)"
            client.set_model_version_tag(model, str(version), ARCHIVED_TAG, stamp)


def _version_files(client: Any, found: Any) -> list[str]:
    """Where a version's files are: its logged model's artifacts and its run's."""
    uris = []
    if getattr(found, "model_id", None):
        uris.append(client.get_logged_model(found.model_id).artifact_location)
    if found.run_id:
        uris.append(client.get_run(found.run_id).info.artifact_uri)
    return [uri for uri in uris if uri]


def _tree_bytes(uri: str) -> int:
    """The size of an MLflow artifact folder, through MLflow's own artifact repository (a local
    folder, S3, or a tracking server's proxied mlflow-artifacts:/)."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repository = get_artifact_repository(uri)

    def walk(path: str | None) -> int:
        return sum(
            walk(item.path) if item.is_dir else int(item.file_size or 0)
            for item in repository.list_artifacts(path)
        )

    return walk(None)


def _remove_tree(uri: str) -> None:
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    get_artifact_repository(uri).delete_artifacts()


def _collect_datasets(settings: Settings, report: GcReport) -> None:
    young = datetime.now(UTC) - timedelta(days=settings.retention.dataset_days)
    with open_connection(settings) as conn:
        needed = promoted_datasets(conn, settings.mlflow.model_name, report.kept_versions)
        candidates = retention_candidates(conn)
        for index, row in enumerate(candidates):
            if index == 0 or row["id"] in needed or row["created_at"] > young:
                report.kept_datasets.append(row["id"])
                continue
            size = _file_bytes(row["artifact_uri"])
            report.collected.append(Collected("dataset", row["id"], size))
            if not report.dry_run:
                _remove_file(row["artifact_uri"])
                set_collected(conn, row["id"], True)


def _file_bytes(uri: str) -> int:
    fs, path = fsspec.core.url_to_fs(uri)
    try:
        return int(fs.size(path))
    except FileNotFoundError:
        return 0


def _remove_file(uri: str) -> None:
    fs, path = fsspec.core.url_to_fs(uri)
    if fs.exists(path):
        fs.rm(path)


def _older_folders(root: Path, cutoff: float) -> list[Path]:
    """Folders directly under `root` last changed before `cutoff` (a running search or run keeps
    writing into its own, so it is never old)."""
    if not root.is_dir():
        return []
    return sorted(
        entry for entry in root.iterdir() if entry.is_dir() and _newest_change(entry) < cutoff
    )


def _newest_change(folder: Path) -> float:
    newest = folder.stat().st_mtime
    for path in folder.rglob("*"):
        try:
            newest = max(newest, path.stat().st_mtime)
        except OSError:
            continue
    return newest


def folder_bytes(folder: Path) -> int:
    """The bytes of the files under `folder` (a file: its own size)."""
    if folder.is_file():
        return folder.stat().st_size
    total = 0
    for path in folder.rglob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except OSError:
            continue
    return total
