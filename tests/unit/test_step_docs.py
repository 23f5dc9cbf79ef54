"""A step in two hops: each component's docstring names the function its step runs, and each
pipeline's docstring numbers its steps and documents its parameters."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pipelines.daily
import pipelines.retraining
import pytest

import tickcast.orchestration.steps as steps
from tickcast.orchestration.dag import DAILY, RETRAINING, Step

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = sorted(p for p in (ROOT / "components").glob("*.py") if p.stem != "__init__")


def imported_by_step(step: str) -> set[str]:
    """`module.name` for every name the step function imports."""
    tree = ast.parse(Path(steps.__file__).read_text())
    [function] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == step]
    return {
        f"{node.module}.{alias.name}"
        for node in ast.walk(function)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


@pytest.mark.parametrize("path", COMPONENTS, ids=lambda p: p.stem)
def test_a_component_names_the_function_it_runs(path: Path) -> None:
    tree = ast.parse(path.read_text())
    [component] = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    doc = " ".join((ast.get_docstring(component) or "").split())
    found = re.search(r"Calls `tickcast\.orchestration\.steps\.(\w+)`, which runs `([\w.]+)`", doc)
    assert found, f"{path.name}: the docstring names no step function: {doc!r}"
    step, target = found.groups()
    assert step == component.name == path.stem
    assert target in imported_by_step(step), f"steps.{step} does not run {target}"


@pytest.mark.parametrize(
    ("pipeline", "table"),
    [(pipelines.daily.daily, DAILY), (pipelines.retraining.retraining, RETRAINING)],
    ids=["daily", "retraining"],
)
def test_a_pipeline_numbers_its_steps_and_documents_its_parameters(
    pipeline: object, table: tuple[Step, ...]
) -> None:
    function = pipeline.pipeline_func  # type: ignore[attr-defined]
    doc = inspect.getdoc(function) or ""
    shown = [step.display_name for step in table]
    numbered = re.findall(r"^(\d+)\. ([a-z ]+):", doc, re.M)
    assert [int(n) for n, _ in numbered] == list(range(1, len(numbered) + 1))
    assert [name for _, name in numbered][: len(shown)] == shown
    for parameter in inspect.signature(function).parameters:
        assert re.search(rf"^\s+{parameter}: \S", doc, re.M), f"{parameter} is not documented"
