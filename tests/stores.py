"""MLflow stores for tests: each a copy of one empty SQLite store that a test process makes once
(MLflow takes 1.7 s to create a store, migrating its schema; a copy takes milliseconds)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

_template: list[Path] = []  # the empty store of this process, once made


def mlflow_store(directory: Path, name: str = "mlflow.db") -> str:
    """The tracking URI of an empty MLflow SQLite store at `directory`/`name` (one already there
    is kept)."""
    if not _template:
        folder = Path(tempfile.mkdtemp(prefix="tickcast-mlflow-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        from mlflow.tracking import MlflowClient

        MlflowClient(f"sqlite:///{folder / 'empty.db'}").search_experiments()
        _template.append(folder / "empty.db")
    target = directory / name
    if not target.exists():
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_template[0], target)
    return f"sqlite:///{target}"
