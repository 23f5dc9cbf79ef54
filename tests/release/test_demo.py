"""`make demo` as a newcomer runs it, with the fewest days that show the loop: day 1 bootstraps v1,
the market shifts on day 3, day 5 (the first with 3 scored sessions, past the 3-session cool-down)
sees the rolling MAPE degraded and retrains, the candidate gets a verdict; the service and the
MLflow UI it leaves running answer."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port

pytestmark = pytest.mark.slow(seconds=135)
ROOT = Path(__file__).resolve().parents[2]


def wait_for(url: str, timeout: float = 120) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(url, timeout=5)
            if answer.status_code == 200:
                return answer
        except httpx.TransportError:
            pass
        time.sleep(1)
    pytest.fail(f"{url} did not answer within {timeout} s")


def test_make_demo_shows_the_loop_and_leaves_the_service_running() -> None:
    serve, mlflow = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKCAST_")}
    make = [
        "make",
        "-s",
        "DEMO_DAYS=5",
        "DEMO_SHIFT_AFTER=2",
        f"DEMO_PORT={serve}",
        f"DEMO_MLFLOW_PORT={mlflow}",
    ]
    try:
        demo = subprocess.run(
            [*make, "demo"],
            cwd=ROOT,
            env={**env, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=1500,
        )
        assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-4000:]
        out = demo.stdout
        assert "Warning" not in out + demo.stderr, demo.stderr[-4000:]
        assert "retrain (bootstrap)" in out and "Candidate v1: promoted" in out
        assert "retrain: rolling MAPE" in out  # the injected shift, seen by the monitor
        assert "Candidate v2: " in out  # the verdict on the candidate that followed
        assert "5 days in" in out and "rolling metrics per production version" in out
        ready = wait_for(f"http://127.0.0.1:{serve}/readyz").json()
        assert ready["ready"] and ready["model_version"] in (1, 2)
        wait_for(f"http://127.0.0.1:{mlflow}/health")
    finally:
        down = subprocess.run(
            [*make, "demo-down"], cwd=ROOT, env=env, capture_output=True, text=True
        )
    assert (
        down.returncode == 0 and "serving" in down.stdout and "embedded PostgreSQL" in down.stdout
    )
