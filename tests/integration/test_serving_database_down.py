"""With the database down, every read endpoint answers 503 at once: the service's own connection
(one quick retry), never the commands' patient backoff (5 retries, 15 s)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.stores import mlflow_store
from tickcast.config import Settings
from tickcast.db.connection import DatabaseUnavailableError
from tickcast.serving.state import ServingState


def test_every_read_fails_fast_with_the_database_down(tmp_path: Path) -> None:
    down = Settings.model_validate(
        {
            "database": {
                "url": f"postgresql://nobody@/none?host={tmp_path}",  # no server there
                "connect_retries": 5,
                "connect_backoff_seconds": 2.0,
            },
            "mlflow": {"tracking_uri": mlflow_store(tmp_path)},
        }
    )
    state = ServingState(down)
    reads: dict[str, Callable[[], object]] = {
        "/performance": lambda: state.performance(None),
        "/predictions/latest": state.latest_predictions,
        "/predictions/AAPL": lambda: state.ticker_history("AAPL", None),
    }
    for endpoint, read in reads.items():
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailableError):
            read()
        assert time.monotonic() - started < 2.0, endpoint  # not one command backoff waited
