"""The Helm chart rendered offline (helm from `make tools`), as the deploy tests read it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tickcast/tools/bin"


def render(helm: Path, values: list[Path], *options: str) -> list[dict[str, Any]]:
    """The chart's documents, released as `tickcast` in namespace tickcast with `values` files."""
    files = [arg for path in values for arg in ("-f", str(path))]
    rendered = subprocess.run(
        [
            str(helm),
            "template",
            "tickcast",
            str(ROOT / "helm/tickcast"),
            "-n",
            "tickcast",
            "--api-versions",
            "ray.io/v1",
            *files,
            *options,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(rendered) if doc]
