"""Run the tickcast CLI in a subprocess, as a user or a scheduler would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.stores import mlflow_store


def tickcast_env(database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKCAST_")}
    env["TICKCAST_CONFIG"] = os.environ["TICKCAST_CONFIG"]
    env["COLUMNS"] = "200"
    if database_url:
        env["TICKCAST_DATABASE__URL"] = database_url
    env.update(extra)
    return env


def local_stores_env(database_url: str, directory: Path, **extra: str) -> dict[str, str]:
    """tickcast_env with the artifact root and an MLflow SQLite store under `directory`."""
    return tickcast_env(
        database_url,
        TICKCAST_ARTIFACTS__ROOT=str(directory / "artifacts"),
        TICKCAST_MLFLOW__TRACKING_URI=mlflow_store(directory),
        **extra,
    )


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tickcast", *args]


def run(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(*args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
