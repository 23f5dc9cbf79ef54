"""A model family from outside tickcast (tests/plugins/seasonal_family, registered only through the
`tickcast.families` entry points) trains, registers, serves and backtests with no change in
`src/`: the seam is the registry, not a list in the code."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.processes import free_port, stopped_at_exit
from tests.stores import mlflow_store
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.families.registry import family_names
from tickcast.features.dataset import build_dataset
from tickcast.ops.predict import predict
from tickcast.ops.promote import promote_manually
from tickcast.ops.train_candidate import train_candidate
from tickcast.orchestration.backtest import backtest

pytestmark = pytest.mark.slow(seconds=40)
PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
ROOT = Path(__file__).resolve().parents[2]
LAST = date(2017, 6, 30)


@pytest.fixture
def plugged(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The plugin's folder on the import path, as an installed package would be."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    yield


def market(url: str, scratch: Path) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": url, "connect_retries": 1, "connect_backoff_seconds": 0.01},
            "artifacts": {"root": str(scratch / "artifacts")},
            "mlflow": {"tracking_uri": mlflow_store(scratch)},
            "data": {
                "source": "synthetic",
                "synthetic": {"n_tickers": 5, "start": "2016-01-04", "end": str(LAST)},
            },
            "features": {"indicators": ["log_return", "rsi_14"]},
            "dataset": {"sequence_length": 5},
            "training": {
                "params": {"family": "seasonal_naive", "tabular_sessions": 5},
                "log_figures": False,
            },
            "monitoring": {"window_sessions": 2},
            "decision": {"min_scored_sessions": 2},
        }
    )


def test_a_family_from_another_package_trains_registers_serves_and_backtests(
    plugged: None, database_url: str, second_database_url: str, tmp_path: Path
) -> None:
    assert "seasonal_naive" in family_names()
    settings = market(database_url, tmp_path / "store")
    ingest_prices(settings, end=LAST)
    candidate = train_candidate(settings, build_dataset(settings).id)
    assert candidate.params.family == "seasonal_naive" and candidate.model_version == 1
    assert candidate.test_persistence.mase == 1.0 and np.isfinite(candidate.test.mase)
    promote_manually(settings, 1, "the plugin family")
    stored = predict(settings, LAST)
    assert len(stored.forecasts) == 5 and stored.forecasts[0].predicted_quantiles

    with serving(settings, tmp_path) as url:
        answer = httpx.post(f"{url}/predict", json={}, timeout=60).json()
    assert answer["model_version"] == 1
    expected = {f.ticker: f.predicted_log_return for f in stored.forecasts}
    got = {f["ticker"]: f["predicted_log_return"] for f in answer["forecasts"]}
    assert got == pytest.approx(expected, abs=1e-12)

    replayed = backtest(
        market(second_database_url, tmp_path / "backtest"),
        date(2017, 6, 1),
        date(2017, 6, 9),
        schedule_sessions=3,
        baselines=False,
    )
    [continuous, persistence, *one_line] = replayed.policies
    assert [p.policy for p in one_line] == ["reversal baseline", "market baseline"]
    assert continuous.policy == "continuous" and continuous.metrics is not None
    assert persistence.metrics is not None and persistence.metrics.mase == 1.0
    assert continuous.metrics.samples == persistence.metrics.samples >= 5 * 4  # the same rows


@contextmanager
def serving(settings: Settings, scratch: Path) -> Iterator[str]:
    """`tickcast serve` in its own process, the plugin on its path like an installed package."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TICKCAST_")},
        "PYTHONPATH": str(PLUGINS),
        "BENTOML_HOME": str(scratch / "bentoml"),
        "TICKCAST_CONFIG": str(ROOT / "tests/data/empty.yaml"),
        "TICKCAST_DATABASE__URL": str(settings.database.url),
        "TICKCAST_ARTIFACTS__ROOT": str(settings.artifacts.root),
        "TICKCAST_MLFLOW__TRACKING_URI": settings.mlflow.tracking_uri,
        "TICKCAST_DATA__SOURCE": "synthetic",
        "TICKCAST_SERVING__POLL_SECONDS": "1",
    }
    log = scratch / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tickcast", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    with stopped_at_exit(process):
        deadline = time.monotonic() + 120
        while not _ready(url):
            assert process.poll() is None, log.read_text()[-4000:]
            assert time.monotonic() < deadline, log.read_text()[-4000:]
            time.sleep(0.5)
        yield url


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
