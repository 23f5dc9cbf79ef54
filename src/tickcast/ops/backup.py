"""Backups of everything tickcast cannot recompute, and their restore into empty stores.

A backup is one folder `tickcast-backup-<UTC time>` at a local path or an fsspec URL (s3://…):
the tickcast database (pg_dump's custom format, client tools of the server's major version), the
MLflow store (a copy of its SQLite file, or a dump of its PostgreSQL database), a local artifact
root as a tar.gz (dataset arrays, model files, MLflow artifacts; an object-store root is assumed
durable and is not copied), and `manifest.json` — written last, so a folder without it is an
unfinished backup — with each file's size and SHA-256. A restore checks every file first, refuses
stores that hold data, restores all three, points stored artifact URIs at the configured root if
it moved, and migrates the schema to this tickcast's.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

import fsspec
from pydantic import BaseModel, ValidationError

from tickcast.artifacts import artifact_uri
from tickcast.config import Settings
from tickcast.db.connection import connect, database_url, open_connection
from tickcast.db.dump import (
    dump_database,
    relocate_dataset_files,
    restore_database,
    tables_with_rows,
)
from tickcast.db.migrate import MigrationResult, init_database, schema_state
from tickcast.db.sqlite_store import copy_store, holds_runs, relocate_store

PREFIX = "tickcast-backup-"
FORMAT = 1
# An MLflow store holds data once it has a run or a registered model (a new one has its default
# experiment and schema version rows)
MLFLOW_CONTENT = ("runs", "registered_models")
MANIFEST = "manifest.json"
DATABASE, MLFLOW_SQLITE, MLFLOW_DUMP, ARTIFACTS = (
    "tickcast.dump",
    "mlflow.db",
    "mlflow.dump",
    "artifacts.tar.gz",
)


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead, and why."""


class BackupFile(BaseModel):
    name: str
    bytes: int
    sha256: str


class Manifest(BaseModel):
    format: int = FORMAT
    created_at: datetime
    tickcast_version: str
    schema_version: int
    database: BackupFile
    mlflow_kind: Literal["sqlite", "postgres"]
    mlflow: BackupFile | None  # None: no MLflow store existed yet (nothing trained)
    artifact_root: str  # the root's URI when backed up (stored URIs start with it)
    artifacts: BackupFile | None  # None: an object-store root, not copied
    notes: list[str] = []

    def files(self) -> list[BackupFile]:
        return [item for item in (self.database, self.mlflow, self.artifacts) if item is not None]


@dataclass
class BackupResult:
    location: str
    manifest: Manifest
    removed: list[str] = field(default_factory=list)  # older backups beyond `keep`


@dataclass
class RestoreResult:
    location: str
    manifest: Manifest
    relocated: int  # stored artifact URIs pointed at the configured root
    migrations: MigrationResult


@dataclass(frozen=True)
class MlflowStore:
    """Where the MLflow store lives: a SQLite file or a PostgreSQL database."""

    kind: Literal["sqlite", "postgres"]
    path: Path | None = None
    url: str | None = None


def mlflow_store(settings: Settings) -> MlflowStore:
    """The MLflow store behind `mlflow.tracking_uri` (with `backup.mlflow_database_url` for a
    tracking server)."""
    uri = settings.mlflow.tracking_uri
    if uri.startswith("sqlite:///"):
        return MlflowStore("sqlite", path=Path(uri.removeprefix("sqlite:///")))
    if uri.startswith(("postgresql", "postgres://")):
        return MlflowStore("postgres", url=_libpq_url(uri))
    if settings.backup.mlflow_database_url:
        return MlflowStore("postgres", url=_libpq_url(settings.backup.mlflow_database_url))
    raise BackupError(
        f"mlflow.tracking_uri {uri} is a tracking server: set backup.mlflow_database_url to its "
        "backend store (postgresql://…) so the registry is backed up with the data"
    )


def _libpq_url(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://) as libpq reads it (postgresql://)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+')[0]}://{rest}"


def backup(
    settings: Settings, destination: str, keep: int | None = None, dumps: Path | None = None
) -> BackupResult:
    """Back up into a new folder under `destination`; then remove the oldest backups there
    beyond `keep` (default backup.keep). `dumps`: a folder with `tickcast.dump` and
    `mlflow.dump` already made by the server's own pg_dump (the chart's backup job makes them
    with the PostgreSQL image), taken instead of dumping here."""
    try:
        return _backup(settings, destination, keep, dumps)
    except _store_errors() as error:  # unwritable, unreachable, no credentials, a full disk
        raise BackupError(f"cannot back up into {destination}: {error}") from error


def _backup(
    settings: Settings, destination: str, keep: int | None, dumps: Path | None
) -> BackupResult:
    fs, root = fsspec.core.url_to_fs(destination)
    local = _is_local(destination)
    name = PREFIX + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    if local:
        artifacts = Path(settings.artifacts.root).expanduser().resolve()
        if Path(root).resolve().is_relative_to(artifacts):
            raise BackupError(
                f"{destination} is inside the artifact root {artifacts}, which a backup copies"
            )
        Path(root).mkdir(parents=True, exist_ok=True)
    else:
        fs.exists(root)  # reachable, with credentials, before anything is dumped
    with tempfile.TemporaryDirectory(prefix=".partial-", dir=root if local else None) as work:
        folder = Path(work)
        manifest = _write_backup(settings, folder, dumps)
        (folder / MANIFEST).write_text(manifest.model_dump_json(indent=2))
        target = f"{root.rstrip('/')}/{name}"
        if local:
            folder.rename(target)
            folder.mkdir()  # for the context's own clean-up
        else:
            for item in [*manifest.files(), None]:  # the manifest last: the backup is complete
                file = MANIFEST if item is None else item.name
                fs.put_file(str(folder / file), f"{target}/{file}")
    removed = _prune(fs, root, keep or settings.backup.keep)
    return BackupResult(_url(destination, name), manifest, removed)


def _write_backup(settings: Settings, folder: Path, dumps: Path | None) -> Manifest:
    notes: list[str] = []
    url = database_url(settings)
    with open_connection(settings) as conn:
        schema = max(schema_state(conn).applied, default=0)
        if dumps is None:
            dump_database(conn, url, folder / DATABASE)
    # Dumps made elsewhere are the chart's, whose MLflow keeps its store in PostgreSQL.
    store = MlflowStore("postgres") if dumps is not None else mlflow_store(settings)
    mlflow: Path | None = folder / (MLFLOW_SQLITE if store.kind == "sqlite" else MLFLOW_DUMP)
    if dumps is not None:
        for name in (DATABASE, MLFLOW_DUMP):
            _take_dump(dumps / name, folder / name)
    elif store.kind == "sqlite":
        assert store.path is not None and mlflow is not None
        if store.path.exists():
            copy_store(store.path, mlflow)
        else:
            notes.append(f"no MLflow store at {store.path} yet (nothing trained)")
            mlflow = None
    else:
        assert store.url is not None and mlflow is not None
        with connect(store.url, retries=0) as conn:
            dump_database(conn, store.url, mlflow)
    root = artifact_uri(settings)
    artifacts = None
    if root.startswith("file://"):
        directory = Path(settings.artifacts.root).expanduser().resolve()
        with tarfile.open(folder / ARTIFACTS, "w:gz", compresslevel=1) as archive:
            if directory.exists():
                archive.add(directory, arcname=".")
        artifacts = _described(folder / ARTIFACTS)
    else:
        notes.append(f"artifacts at {root} not copied: an object store is assumed durable")
    return Manifest(
        created_at=datetime.now(UTC),
        tickcast_version=version("tickcast"),
        schema_version=schema,
        database=_described(folder / DATABASE),
        mlflow_kind=store.kind,
        mlflow=None if mlflow is None else _described(mlflow),
        artifact_root=root,
        artifacts=artifacts,
        notes=notes,
    )


def restore(settings: Settings, source: str) -> RestoreResult:
    """Restore the backup at `source` (a backup folder, or a destination: its newest complete
    backup) into the configured stores, which must be empty."""
    try:
        return _restore(settings, source)
    except _store_errors() as error:  # unreadable, unreachable, no credentials, a full disk
        raise BackupError(f"cannot restore from {source}: {error}") from error


def _store_errors() -> tuple[type[Exception], ...]:
    """What reaching a folder or an object store can raise (botocore's with the s3 extra)."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)


def _restore(settings: Settings, source: str) -> RestoreResult:
    fs, path = fsspec.core.url_to_fs(source)
    if fs.exists(f"{path.rstrip('/')}/{MANIFEST}"):
        folder, location = path.rstrip("/"), source
    else:
        folder = _newest(fs, path, source)
        location = _url(source, folder.rsplit("/", 1)[-1])
    with tempfile.TemporaryDirectory(prefix="tickcast-restore-") as work:
        local = Path(work)
        try:
            manifest = Manifest.model_validate_json(fs.cat_file(f"{folder}/{MANIFEST}"))
        except ValidationError as error:
            problem = error.errors()[0]["msg"]
            raise BackupError(
                f"{folder}/{MANIFEST} is no tickcast backup manifest: {problem}"
            ) from None
        if manifest.format != FORMAT:
            raise BackupError(f"backup format {manifest.format}: this tickcast reads {FORMAT}")
        for item in manifest.files():
            fs.get_file(f"{folder}/{item.name}", str(local / item.name))
            if _described(local / item.name) != item:
                raise BackupError(f"{item.name} in {source} is damaged: size or SHA-256 differ")
        store = mlflow_store(settings)
        if store.kind != manifest.mlflow_kind:
            raise BackupError(
                f"the backup holds a {manifest.mlflow_kind} MLflow store; the configured one is "
                f"{store.kind} ({settings.mlflow.tracking_uri})"
            )
        root = artifact_uri(settings)
        _require_empty(settings, store, root if manifest.artifacts else None)
        url = database_url(settings)
        with open_connection(settings) as conn:
            restore_database(conn, url, local / DATABASE)
        if manifest.mlflow is None:
            pass  # nothing was trained when it was made
        elif store.kind == "sqlite":
            assert store.path is not None
            store.path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local / MLFLOW_SQLITE, store.path)
        else:
            assert store.url is not None
            with connect(store.url, retries=0) as conn:
                restore_database(conn, store.url, local / MLFLOW_DUMP, MLFLOW_CONTENT)
        relocated = 0
        if manifest.artifacts is not None:
            directory = Path(settings.artifacts.root).expanduser().resolve()
            directory.mkdir(parents=True, exist_ok=True)
            with tarfile.open(local / ARTIFACTS) as archive:
                archive.extractall(directory, filter="data")
            if root != manifest.artifact_root:
                relocated = _relocate(
                    settings, store if manifest.mlflow else None, manifest.artifact_root, root
                )
    migrations = init_database(settings)
    return RestoreResult(location, manifest, relocated, migrations)


def _take_dump(made: Path, target: Path) -> None:
    """A dump pg_dump made elsewhere, refused unless it is one in the custom format."""
    if not made.is_file():
        raise BackupError(f"no dump at {made} (--dumps names the folder holding it)")
    with made.open("rb") as file:
        if file.read(5) != b"PGDMP":
            raise BackupError(f"{made} is not a pg_dump custom-format archive")
    shutil.copyfile(made, target)


def _require_empty(settings: Settings, store: MlflowStore, root: str | None) -> None:
    """Refuse before changing anything when a target store holds data."""
    problems = []
    with open_connection(settings) as conn:
        filled = tables_with_rows(conn)
    if filled:
        problems.append(f"the tickcast database holds data (tables {', '.join(filled[:5])})")
    if store.kind == "sqlite" and store.path is not None and holds_runs(store.path):
        problems.append(f"the MLflow store {store.path} holds runs or models")
    if store.kind == "postgres" and store.url is not None:
        with connect(store.url, retries=0) as conn:
            if tables_with_rows(conn, MLFLOW_CONTENT):
                problems.append("the MLflow database holds data")
    if root is not None:
        directory = Path(settings.artifacts.root).expanduser().resolve()
        if directory.exists() and any(directory.iterdir()):
            problems.append(f"the artifact root {directory} is not empty")
    if problems:
        raise BackupError(
            "a restore goes into empty stores: " + "; ".join(problems) + " (configure new ones: "
            "database.url or database.embedded_dir, mlflow.tracking_uri, artifacts.root)"
        )


def _relocate(settings: Settings, store: MlflowStore | None, old: str, new: str) -> int:
    """Point stored artifact URIs from the backed-up root at the configured one (in the MLflow
    store too, if one was restored)."""
    with open_connection(settings) as conn:
        moved = relocate_dataset_files(conn, old, new)
    if store is not None and store.kind == "sqlite" and store.path is not None:
        moved += relocate_store(store.path, old, new)
    return moved


def _described(path: Path) -> BackupFile:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return BackupFile(name=path.name, bytes=path.stat().st_size, sha256=digest.hexdigest())


def _complete(fs: Any, root: str) -> list[str]:
    """The complete backups under `root` (with a manifest), oldest first."""
    if not fs.exists(root):
        return []
    names = sorted(
        entry.rstrip("/").rsplit("/", 1)[-1]
        for entry in fs.ls(root, detail=False)
        if entry.rstrip("/").rsplit("/", 1)[-1].startswith(PREFIX)
    )
    return [name for name in names if fs.exists(f"{root.rstrip('/')}/{name}/{MANIFEST}")]


def _newest(fs: Any, root: str, source: str) -> str:
    found = _complete(fs, root)
    if not found:
        raise BackupError(f"no complete backup in {source} (a {PREFIX}… folder with {MANIFEST})")
    return f"{root.rstrip('/')}/{found[-1]}"


def _prune(fs: Any, root: str, keep: int) -> list[str]:
    found = _complete(fs, root)
    removed = found[: max(len(found) - keep, 0)]
    for name in removed:
        fs.rm(f"{root.rstrip('/')}/{name}", recursive=True)
    return removed


def _is_local(location: str) -> bool:
    return "://" not in location or location.startswith("file://")


def _url(location: str, name: str) -> str:
    return f"{location.rstrip('/')}/{name}"
