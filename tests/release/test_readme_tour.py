"""The README's `test` blocks run as written: the tour by hand and the backtest example."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.integration.test_readme import ROOT, blocks

pytestmark = pytest.mark.slow(seconds=110)


def test_tested_blocks_run_as_written() -> None:
    """The tour and the backtest example, in a fresh directory with only the repo's config and
    compiled pipelines: embedded PostgreSQL, MLflow on SQLite, no TICKCAST_* variables."""
    workdir = (
        ROOT / ".tickcast/readme-test"
    )  # under the repo: the embedded server's user can read it
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "pipelines").mkdir(parents=True)
    shutil.copytree(ROOT / "config", workdir / "config")
    for compiled in (ROOT / "pipelines").glob("*.yaml"):
        shutil.copy(compiled, workdir / "pipelines")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKCAST_")}
    env["PATH"] = f"{ROOT / '.venv/bin'}{os.pathsep}{env['PATH']}"
    env["COLUMNS"] = "200"
    try:
        for index, body in enumerate(blocks("test")):
            run = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", body],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert run.returncode == 0, (
                f"block {index}:\n{body}\n{run.stdout[-5000:]}{run.stderr[-5000:]}"
            )
            if "tickcast model list" in body:
                assert "production" in run.stdout
            if "tickcast backtest" in body:
                for policy in ("continuous-strict", "train_once", "fixed_schedule", "persistence"):
                    assert policy in run.stdout
                report = workdir / ".tickcast/artifacts/backtests/2016-06-01_2016-06-15/report.md"
                assert "| continuous-strict |" in report.read_text()
    finally:
        for embedded in workdir.glob(".tickcast/**/pg"):
            subprocess.run(
                [str(ROOT / ".venv/bin/tickcast"), "db", "down"],
                cwd=workdir,
                env={**env, "TICKCAST_DATABASE__EMBEDDED_DIR": str(embedded)},
                capture_output=True,
            )
        shutil.rmtree(workdir, ignore_errors=True)
