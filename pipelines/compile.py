"""Write the compiled IR YAML of both pipelines and every component: python -m pipelines.compile"""

from __future__ import annotations

import importlib
from pathlib import Path

from kfp import compiler

ROOT = Path(__file__).resolve().parents[1]
PIPELINES = {"daily": "pipelines.daily:daily", "retraining": "pipelines.retraining:retraining"}


def targets() -> dict[Path, object]:
    """Output file -> pipeline or component function."""
    found: dict[Path, object] = {}
    for name, spec in PIPELINES.items():
        module, attribute = spec.split(":")
        found[ROOT / "pipelines" / f"{name}.yaml"] = getattr(
            importlib.import_module(module), attribute
        )
    for path in sorted((ROOT / "components").glob("*.py")):
        if path.stem != "__init__":
            component = importlib.import_module(f"components.{path.stem}")
            found[ROOT / "components" / f"{path.stem}.yaml"] = getattr(component, path.stem)
    return found


def compile_all(directory_override: Path | None = None) -> list[Path]:
    written = []
    for target, function in targets().items():
        output = directory_override / target.relative_to(ROOT) if directory_override else target
        output.parent.mkdir(parents=True, exist_ok=True)
        compiler.Compiler().compile(function, str(output))
        written.append(output)
    return written


if __name__ == "__main__":
    for path in compile_all():
        print(path.relative_to(ROOT))
