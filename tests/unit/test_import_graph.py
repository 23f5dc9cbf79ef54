"""The import graph: light pipeline steps stay light, no import points up the house (or across
it), and no two modules import each other, deferred imports included.

A step's weight is what a fresh interpreter holds after importing every module the step's
function in `tickcast.orchestration.steps` imports (its pod pays that at start-up, whatever the
work). Steps that need neither a model nor the registry must not pull in torch or MLflow; steps
that read the registry, or forecast with a production model, must not pull in torch (a
network's bundle imports it when one is loaded).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tickcast
import tickcast.orchestration.kfp_values as kfp_values
import tickcast.orchestration.steps as steps

PACKAGE = Path(tickcast.__file__).parent
HEAVY = ("torch", "mlflow", "lightgbm", "sklearn", "ray", "optuna")
# step -> heavy packages it may import
ALLOWED = {
    "init_database": set(),
    "ingest": set(),
    "validate": set(),
    "decide": set(),
    "build_dataset": set(),
    "resolve_production": {"mlflow"},
    # The production model is read from its files (MLflow only for a remote artifact store, when
    # loaded); a tabular one needs no torch: a network's bundle imports it when loaded.
    "predict": set(),
    "monitor": set(),
    "gc": {"mlflow"},  # it reads the registry to keep production and its rollbacks
}


def step_imports(name: str) -> list[str]:
    """The tickcast modules a step's pod imports for it: its step function's body and its KFP
    boundary function's (which reads the step's inputs from their strings)."""
    found: set[str] = set()
    for module in (steps, kfp_values):
        tree = ast.parse(Path(module.__file__ or "").read_text())
        [function] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
        found |= {
            node.module
            for node in ast.walk(function)
            if isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("tickcast")
        }
    return sorted(found)


def heavy_after_importing(modules: list[str]) -> list[str]:
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("step", sorted(ALLOWED))
def test_a_light_step_imports_no_heavy_package(step: str) -> None:
    modules = step_imports(step)
    assert modules, f"steps.{step} imports nothing from tickcast: the check would be empty"
    heavy = set(heavy_after_importing(modules)) - ALLOWED[step]
    assert not heavy, f"steps.{step} ({', '.join(modules)}) pulls in {sorted(heavy)}"


def test_a_heavy_import_in_a_light_module_is_caught() -> None:
    """The probe sees a transitive import: the train step's modules load torch."""
    assert "torch" in heavy_after_importing(step_imports("train_candidate"))


def imports_of(path: Path) -> set[str]:
    """Every tickcast module `path` imports, wherever the import stands: a deferred import (in a
    function, for weight) is an edge of the graph like any other."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tickcast"):
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names if a.name.startswith("tickcast")}
    return imported


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


GRAPH = {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}
# The house, bottom up: a package imports only from lower floors and its own.
FLOORS = [
    {"tickcast", "text", "tickers"},
    {"config"},
    {"artifacts", "db", "models"},
    {"data"},
    {"features"},
    {"families"},
    {"training"},
    {"registry"},
    {"ops"},
    {"orchestration", "serving"},
    {"cli"},
    {"__main__"},
]


def floor(module: str) -> tuple[int, str]:
    package = module.split(".")[1] if "." in module else module
    return next(i for i, names in enumerate(FLOORS) if package in names), package


def test_every_package_has_a_floor() -> None:
    for module in GRAPH:
        floor(module)  # StopIteration names a package nobody placed


def points_up_or_across(module: str, target: str) -> bool:
    (here, package), (there, other) = floor(module), floor(target)
    return other != package and there >= here


def test_no_import_points_up_or_across() -> None:
    arrows = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if points_up_or_across(module, target)
    )
    assert not arrows, "imports up or across the house: " + "; ".join(arrows)


def test_the_arrows_that_were_there_would_be_caught() -> None:
    assert points_up_or_across("tickcast.registry.production_bundle", "tickcast.ops.results")
    assert points_up_or_across("tickcast.ops.backtest", "tickcast.orchestration.runner")
    assert points_up_or_across("tickcast.serving.state", "tickcast.orchestration.runner")
    assert not points_up_or_across("tickcast.ops.monitor", "tickcast.registry.bundle")
    assert not points_up_or_across("tickcast.training.fit", "tickcast.families.registry")
    assert points_up_or_across("tickcast.families.networks", "tickcast.training.fit")


def test_no_modules_import_each_other() -> None:
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str], done: set[str]) -> None:
        for target in sorted(GRAPH.get(module, ())):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                done.add(target)
                visit(target, [*path, target], done)

    for module in sorted(GRAPH):
        visit(module, [module], {module})
    named = sorted({" -> ".join(c) for c in cycles})
    assert not named, "import cycles: " + "; ".join(named)
