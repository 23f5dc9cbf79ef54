"""Retention (`tickcast gc`): disk that months of daily runs fill, given back.

- Dataset versions: the arrays (dataset.npz) of versions that no kept model needs and that are
  older than `retention.dataset_days` are deleted; the catalog row and its report stay, marked
  collected, and building the same version again writes them back. Kept: production, every
  version a rollback walks back to (the promotion audit), the last `retention.keep_promoted`
  promoted versions, and the newest version.
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
from typing import Literal

import fsspec

from tickcast.config import Settings
from tickcast.db.connection import open_connection
from tickcast.db.datasets import promoted_datasets, retention_candidates, set_collected
from tickcast.db.migrate import ensure_schema
from tickcast.db.promotions import last_alias_move_to, promotion_history
from tickcast.registry.aliases import production_version
from tickcast.registry.tracking import configure_mlflow

ROLLBACK_DEPTH = 100  # more alias moves than this back is not a rollback anyone makes


Kind = Literal["dataset", "search results", "kfp.local run"]


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
    _collect_datasets(settings, report)
    cutoff = time.time() - settings.retention.results_days * 86_400
    from tickcast.ops.tune import search_storage_path  # MLflow only when collecting

    roots: list[tuple[Kind, Path]] = [
        ("search results", search_storage_path(settings)),
        ("kfp.local run", Path(settings.kfp.local_root).expanduser().resolve()),
    ]
    for kind, root in roots:
        for folder in _older_folders(root, cutoff):
            report.collected.append(Collected(kind, str(folder), _folder_bytes(folder)))
            if not dry_run:
                shutil.rmtree(folder, ignore_errors=True)
    return report


def kept_versions(settings: Settings) -> list[int]:
    """Production, every version a rollback walks back to, and the last promoted ones."""
    model = settings.mlflow.model_name
    current = production_version(configure_mlflow(settings), settings)
    kept: list[int] = []
    with open_connection(settings) as conn:
        ensure_schema(conn)
        version = current
        while version is not None and version not in kept and len(kept) < ROLLBACK_DEPTH:
            kept.append(version)
            move = last_alias_move_to(conn, model, version)
            version = None if move is None else move["production_before"]
        promoted = [
            row["candidate_version"]
            for row in promotion_history(conn, model, 10_000)
            if row["action"] == "promote" and row["promoted"]
        ]
    for version in promoted[: settings.retention.keep_promoted]:
        if version not in kept:
            kept.append(version)
    return kept


def _collect_datasets(settings: Settings, report: GcReport) -> None:
    report.kept_versions = kept_versions(settings)
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


def _folder_bytes(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except OSError:
            continue
    return total
