"""Print tickcast's runtime dependencies, all the way down, pinned as in constraints.txt.

Usage: python images/pinned_requirements.py > dist/requirements.txt   (make bento uses it)

Images install exactly this (no dev tools, no guessing): the closure of the packages tickcast
itself requires (extras left out) in this environment, each at its constraints.txt version.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, requires
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[normalise(name)] = f"{name.strip()}=={version.strip()}"
    return found


def runtime_closure(root: str = "tickcast") -> set[str]:
    """Names of every package `root` needs at run time on this platform (no extras)."""
    seen: set[str] = set()
    pending = [root]
    while pending:
        name = pending.pop()
        try:
            declared = requires(name) or []
        except PackageNotFoundError:
            continue
        for text in declared:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            key = normalise(requirement.name)
            if key not in seen:
                seen.add(key)
                pending.append(requirement.name)
    return seen


def main() -> None:
    pinned = pins()
    names = sorted(runtime_closure())
    missing = [name for name in names if name not in pinned]
    if missing:
        raise SystemExit(f"not pinned in constraints.txt: {', '.join(missing)}")
    print("\n".join(pinned[name] for name in names))


if __name__ == "__main__":
    main()
