"""Nothing tracked reaches outside the project root: a user's clone has nothing beside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# A relative path that climbs: `../x`, `../../x/y` (quotes, spaces, `=` or `(` before it).
CLIMBING_PATH = re.compile(r"(?<![\w.])((?:\.\./)+[\w.\-/]*)")
# Files whose relative paths mean their own folder (links, kustomize resources); in every other
# file a relative path may mean the project root too (the working directory, config.anchored).
FILE_RELATIVE = (".md", "kustomization.yaml")
# Code that climbs above a root constant (a `*ROOT` name followed by `.parent`).
ABOVE_ROOT = re.compile(r"\b[A-Z_]*ROOT\.parents?\b")


def outside_references(root: Path, files: list[str]) -> list[str]:
    """`file:line: path` for every path in `files` that resolves outside `root`: a `../` path
    from the file's own folder or (outside FILE_RELATIVE files) from the root, or code climbing
    above a `*ROOT` constant."""
    found = []
    for name in files:
        path = root / name
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue  # binary files, submodules
        for number, line in enumerate(text.splitlines(), start=1):
            for match in CLIMBING_PATH.finditer(line):
                bases = {path.parent} if name.endswith(FILE_RELATIVE) else {path.parent, root}
                if any(
                    not (base / match.group(1)).resolve().is_relative_to(root) for base in bases
                ):
                    found.append(f"{name}:{number}: {match.group(1)}")
            found += [f"{name}:{number}: {m.group(0)}" for m in ABOVE_ROOT.finditer(line)]
    return found


CLIMBING_CODE = "REPO_ROOT" + ".parent"


def tracked_files(root: Path) -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        pytest.skip(f"not a git checkout: {listing.stderr.strip()}")
    return [name for name in listing.stdout.split("\0") if name]


def test_no_tracked_file_names_a_path_outside_the_root() -> None:
    this_file = Path(__file__).resolve().relative_to(REPO_ROOT).as_posix()  # its examples climb
    files = [name for name in tracked_files(REPO_ROOT) if name != this_file]
    assert outside_references(REPO_ROOT, files) == []


def test_the_check_catches_a_path_that_leaves(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config/ok.yaml").write_text("path: data/sample  # stays inside\n")
    (tmp_path / "config/bad.yaml").write_text("csv:\n  path: ../../elsewhere/data/stocknet\n")
    (tmp_path / "config/also.yaml").write_text("csv:\n  path: ../elsewhere/data/stocknet\n")
    (tmp_path / "conftest.py").write_text(
        f'DATA = {CLIMBING_CODE} / "elsewhere/data"\nOTHER = Path("../elsewhere/data/stocknet")\n'
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/conftest.py").write_text('STOCKNET = Path("../elsewhere/data/stocknet")\n')
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/guide.md").write_text("See [the README](../README.md).\n")
    files = ["config/ok.yaml", "config/bad.yaml", "config/also.yaml", "conftest.py"]
    files += ["tests/conftest.py", "docs/guide.md"]
    found = outside_references(tmp_path, files)
    assert found == [
        "config/bad.yaml:2: ../../elsewhere/data/stocknet",
        "config/also.yaml:2: ../elsewhere/data/stocknet",  # config paths mean the project root
        f"conftest.py:1: {CLIMBING_CODE}",
        "conftest.py:2: ../elsewhere/data/stocknet",
        "tests/conftest.py:1: ../elsewhere/data/stocknet",  # from the working directory
    ]
