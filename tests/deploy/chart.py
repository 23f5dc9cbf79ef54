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
    rendered = helm_template(helm, values, *options)
    rendered.check_returncode()
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def helm_template(
    helm: Path, values: list[Path], *options: str
) -> subprocess.CompletedProcess[str]:
    """`helm template` of the chart as `render` runs it, its output and status as they are."""
    files = [arg for path in values for arg in ("-f", str(path))]
    return subprocess.run(
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
    )
