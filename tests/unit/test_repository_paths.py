"""Nothing tracked reaches outside the project root: a user's clone has nothing beside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# A relative path that climbs: `../x`, `../../x/y` (quotes, spaces, `=` or `(` before it).
CLIMBING_PATH = re.compile(r"(?<![\w.])((?:\.\./)+[\w.\-/]*)")
# Code that climbs above a root constant (a `*ROOT` name followed by `.parent`).
ABOVE_ROOT = re.compile(r"\b[A-Z_]*ROOT\.parents?\b")


def outside_references(root: Path, files: list[str]) -> list[str]:
    """`file:line: path` for every path in `files` that resolves outside `root`: a `../` path
    from the file's own folder, or code climbing above a `*ROOT` constant."""
    found = []
    for name in files:
        path = root / name
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue  # binary files, submodules
        for number, line in enumerate(text.splitlines(), start=1):
            for match in CLIMBING_PATH.finditer(line):
                target = (path.parent / match.group(1)).resolve()
                if not target.is_relative_to(root):
                    found.append(f"{name}:{number}: {match.group(1)}")
            found += [f"{name}:{number}: {m.group(0)}" for m in ABOVE_ROOT.finditer(line)]
    return found


# Spelled in two parts so that this file does not name what it looks for.
CLIMBING_CODE = "REPO_ROOT" + ".parent"


def tracked_files(root: Path) -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        pytest.skip(f"not a git checkout: {listing.stderr.strip()}")
    return [name for name in listing.stdout.split("\0") if name]


def test_no_tracked_file_names_a_path_outside_the_root() -> None:
    assert outside_references(REPO_ROOT, tracked_files(REPO_ROOT)) == []


def test_the_check_catches_a_path_that_leaves(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config/ok.yaml").write_text("path: ../data/sample  # stays inside\n")
    (tmp_path / "config/bad.yaml").write_text("csv:\n  path: ../../shared/data/stocknet\n")
    (tmp_path / "conftest.py").write_text(
        f'DATA = {CLIMBING_CODE} / "shared/data"\nOTHER = Path("../shared/data/stocknet")\n'
    )
    found = outside_references(tmp_path, ["config/ok.yaml", "config/bad.yaml", "conftest.py"])
    assert found == [
        "config/bad.yaml:2: ../../shared/data/stocknet",
        f"conftest.py:1: {CLIMBING_CODE}",
        "conftest.py:2: ../shared/data/stocknet",
    ]
