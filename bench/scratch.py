"""A throwaway tickcast store for a benchmark: embedded PostgreSQL, MLflow on SQLite, artifacts,
stocknet as the source, all under one temporary folder and handed on through TICKCAST_*
variables (so subprocesses, kfp.local steps and servers see the same store)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tickcast.db import embedded


@contextmanager
def scratch_store(stocknet: Path, **variables: str) -> Iterator[Path]:
    """The temporary folder; `variables` are more TICKCAST_* (or other) environment values."""
    scratch = Path(tempfile.mkdtemp(prefix="tickcast-bench-"))
    server = embedded.start(scratch / "pgdata")
    (scratch / "empty.yaml").write_text("{}\n")
    os.environ.update(
        {
            "TICKCAST_CONFIG": str(scratch / "empty.yaml"),
            "TICKCAST_DATABASE__URL": server.url,
            "TICKCAST_ARTIFACTS__ROOT": str(scratch / "artifacts"),
            "TICKCAST_MLFLOW__TRACKING_URI": f"sqlite:///{scratch}/mlflow.db",
            "TICKCAST_DATA__SOURCE": "csv",
            "TICKCAST_DATA__CSV__PATH": str(stocknet.resolve()),
            **variables,
        }
    )
    try:
        yield scratch
    finally:
        embedded.stop(scratch / "pgdata")
        shutil.rmtree(scratch, ignore_errors=True)
