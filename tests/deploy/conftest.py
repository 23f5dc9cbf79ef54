"""Fixtures of the deploy tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.chart import ROOT, TOOLS


@pytest.fixture(scope="module")
def helm() -> Path:
    """helm, fetched by scripts/fetch_tools.py when `make tools` has not run yet."""
    if not (TOOLS / "helm").exists():
        subprocess.run([sys.executable, str(ROOT / "scripts/fetch_tools.py")], check=True)
    return TOOLS / "helm"
