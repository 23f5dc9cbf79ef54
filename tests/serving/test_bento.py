"""`make bento` builds the serving Bento offline, with tickcast's wheel and pinned requirements."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_make_bento_builds_offline(tmp_path: Path) -> None:
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "bentoml")}
    built = subprocess.run(
        ["make", "-s", "bento"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [bento] = (tmp_path / "bentoml/bentos/tickcast").glob("*/bento.yaml")
    spec = yaml.safe_load(bento.read_text())
    assert spec["service"] == "tickcast.serving.service:TickcastService"
    assert [route["route"] for route in spec["schema"]["routes"]] == ["/predict"]
    python = bento.parent / "env/python"
    assert [w.name for w in (python / "wheels").iterdir()] == ["tickcast-0.1.0-py3-none-any.whl"]
    requirements = (python / "requirements.txt").read_text().splitlines()
    assert "torch==2.13.0" in requirements and "bentoml==1.4.39" in requirements
    assert not any(line.startswith(("pytest", "mypy==", "ruff")) for line in requirements)
    assert "download.pytorch.org/whl/cpu" in (python / "install.sh").read_text()
    assert (bento.parent / "env/docker/Dockerfile").is_file()
    assert (bento.parent / "src/config/tickcast.yaml").is_file()
