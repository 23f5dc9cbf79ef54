"""The artifact store: a local folder by default, any fsspec URL (s3://, gs://) on a cluster."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import fsspec

from tickcast.config import Settings


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
