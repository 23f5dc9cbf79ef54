"""The model families by name: the `tickcast.families` entry-point group of the installed
packages (tickcast registers its own five in pyproject.toml), so the CLI, the KFP step processes
and the BentoML service all find the same ones. A family's module is imported when it is first
used (a network's imports torch)."""

from __future__ import annotations

import difflib
import functools
from importlib.metadata import entry_points

from tickcast.config import FAMILY_GROUP as GROUP
from tickcast.config import registered_families
from tickcast.families.base import Family


class UnknownFamilyError(ValueError):
    """A family name no installed package registers."""


def family_names() -> list[str]:
    """The registered names, sorted (read from the packages' metadata: nothing is imported)."""
    return registered_families()


@functools.cache
def family(name: str) -> Family:
    """The family registered as `name`."""
    found = [point for point in entry_points(group=GROUP) if point.name == name]
    if not found:
        known = family_names()
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UnknownFamilyError(
            f"unknown model family {name!r}{hint}: registered are {', '.join(known)} "
            f"(entry-point group {GROUP})"
        )
    loaded: Family = found[0].load()
    return loaded
