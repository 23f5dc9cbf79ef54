"""The artifact store: a local folder by default, any fsspec URL (s3://, gs://) on a cluster."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Any

import fsspec

from tickcast.config import URI_SCHEME, Settings


def artifact_uri(settings: Settings, *parts: str) -> str:
    """The URI of an artifact under the configured root (local roots become absolute file URIs)."""
    root = settings.artifacts.root
    if "://" not in root:
        root = Path(root).expanduser().resolve().as_uri()
    return "/".join([root.rstrip("/"), *parts])


def open_artifact(uri: str, mode: str = "rb") -> IO[Any]:
    """Open an artifact for reading or writing (parent folders are created on write)."""
    opened: IO[Any] = fsspec.open(uri, mode, auto_mkdir=True).open()
    return opened


def search_storage_path(settings: Settings) -> Path:
    """Where a search keeps its local state (Ray's results and session logs): beside a local
    artifact root; with an object store (s3://…) in a per-user temporary folder, because the
    working directory of a pod (the image's /app) belongs to root while the pod runs as 10001."""
    root = settings.artifacts.root
    if URI_SCHEME.match(root):
        base = Path(tempfile.gettempdir()) / f"tickcast-{os.getuid()}"
    else:
        base = Path(root).expanduser()
    return (base / "ray").resolve()
