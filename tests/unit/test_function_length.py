"""No function in src/ runs over 80 lines: a long one is split into named parts. The ones still
over it are listed, with their length, until issue #29 splits them; the list only shrinks."""

from __future__ import annotations

import ast
from pathlib import Path

import tickcast

PACKAGE = Path(tickcast.__file__).parent
MAX_LINES = 80
STILL_LONG = {  # function -> its length today (#29 splits it)
    "data/ingest.py:_ingest_all": 88,
}


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
    long = {name: n for name, n in lengths.items() if n > MAX_LINES and name not in STILL_LONG}
    assert not long, f"functions over {MAX_LINES} lines: {long}"
    grown = {
        name: lengths.get(name, 0) for name in STILL_LONG if lengths.get(name, 0) > STILL_LONG[name]
    }
    assert not grown, f"listed long functions grew: {grown}"
    done = [name for name in STILL_LONG if lengths.get(name, 0) <= MAX_LINES]
    assert not done, f"no longer over {MAX_LINES} lines, take them off STILL_LONG: {done}"
