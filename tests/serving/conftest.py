"""A real `bentoml serve` of the tickcast service over a store with two registered versions,
stored forecasts and scores: shared by the serving tests (it takes ~20 s to set up)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.processes import free_port, stopped_at_exit
from tests.stores import mlflow_store
from tickcast.config import ModelParams, Settings, load_settings
from tickcast.data.ingest import ingest_prices
from tickcast.features.dataset import build_dataset
from tickcast.ops.evaluate import evaluate
from tickcast.ops.promote import promote
from tickcast.ops.train_candidate import train_candidate
from tickcast.orchestration.runner import simulate

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = date(2017, 6, 30)
DAYS = [date(2017, 7, 3), date(2017, 7, 5), date(2017, 7, 6)]
POLL_SECONDS = 1.0


@dataclass
class Served:
    url: str
    settings: Settings
    env: dict[str, str]
    log: Path
    second_version: int


@pytest.fixture(scope="module")
def module_database(server_url: str) -> Iterator[str]:
    name = f"tickcast_serving_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield make_conninfo(**{**conninfo_to_dict(server_url), "dbname": name})  # type: ignore[arg-type]
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def served(module_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    scratch = tmp_path_factory.mktemp("serving")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TICKCAST_")},
        "TICKCAST_CONFIG": os.environ["TICKCAST_CONFIG"],
        "TICKCAST_DATABASE__URL": module_database,
        "TICKCAST_ARTIFACTS__ROOT": str(scratch / "artifacts"),
        "TICKCAST_MLFLOW__TRACKING_URI": mlflow_store(scratch),
        "TICKCAST_DATA__SOURCE": "synthetic",
        "TICKCAST_DATA__SYNTHETIC__N_TICKERS": "5",
        "TICKCAST_DATA__SYNTHETIC__START": "2016-01-04",
        "TICKCAST_DATASET__SEQUENCE_LENGTH": "10",
        "TICKCAST_TRAINING__MAX_EPOCHS": "1",
        "TICKCAST_TRAINING__PARAMS__HIDDEN_SIZE": "8",
        "TICKCAST_MONITORING__WINDOW_SESSIONS": "2",
        "TICKCAST_SERVING__POLL_SECONDS": str(POLL_SECONDS),
        "TICKCAST_SERVING__DATA_CHECK_SECONDS": "0.2",
        "BENTOML_HOME": str(scratch / "bentoml"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            if key.startswith("TICKCAST_"):
                patch.setenv(key, value)
        settings = load_settings()
        ingest_prices(settings, end=BOOTSTRAP)
        dataset = build_dataset(settings).id
        first = train_candidate(settings, dataset)
        promote(settings, evaluate(settings, first.model_version))
        second = train_candidate(settings, dataset, ModelParams(hidden_size=16))
        simulate(settings, DAYS)  # stored forecasts for 5, 6 and 7 July; the first two scored

    log = scratch / "bentoml.log"
    with serving(env, log) as url:
        yield Served(url, settings, env, log, second.model_version)


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """`tickcast serve` (which execs bentoml serve) as a user starts it, with `env`, on a free
    port: its URL once ready; stopped when the block ends."""
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tickcast", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    with stopped_at_exit(process):
        _wait_ready(url, process, log)
        yield url


def _wait_ready(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"bentoml serve exited with {process.returncode}:\n{log.read_text()[-4000:]}"
            )
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the service was not ready within {timeout} s:\n{log.read_text()[-4000:]}")
