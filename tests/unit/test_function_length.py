"""No function in src/ runs over 80 lines: a long one is split into named parts."""

from __future__ import annotations

import ast
from pathlib import Path

import tickcast

PACKAGE = Path(tickcast.__file__).parent
MAX_LINES = 80


def function_lengths() -> dict[str, int]:
    found: dict[str, int] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{path.relative_to(PACKAGE).as_posix()}:{node.name}"
                found[name] = max(found.get(name, 0), (node.end_lineno or 0) - node.lineno + 1)
    return found


def test_no_function_is_longer_than_80_lines() -> None:
    lengths = function_lengths()
    long = {name: n for name, n in lengths.items() if n > MAX_LINES}
    assert not long, f"functions over {MAX_LINES} lines: {long}"


def test_a_long_function_would_be_found() -> None:
    assert max(function_lengths().values()) > 40  # the walk reads every function
