"""The Dockerfiles lint clean, and the compiled pipelines, the chart and the Makefile agree on
the image names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HADOLINT = Path(sys.executable).with_name("hadolint")
DOCKERFILES = sorted((ROOT / "images").glob("*/Dockerfile"))
TRAINING_STEPS = {"exec-tune", "exec-train-candidate"}


def test_every_image_has_a_dockerfile_that_passes_hadolint() -> None:
    assert {path.parent.name for path in DOCKERFILES} == {"runtime", "trainer", "serving", "mlflow"}
    for dockerfile in DOCKERFILES:
        linted = subprocess.run([str(HADOLINT), str(dockerfile)], capture_output=True, text=True)
        assert linted.returncode == 0, (dockerfile.name, linted.stdout + linted.stderr)
        text = dockerfile.read_text()
        assert re.search(r"^USER 10001", text, re.MULTILINE), f"{dockerfile} must not run as root"


def _makefile_default(name: str) -> str:
    found = re.search(rf"^{name} \?= (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert found, f"Makefile has no `{name} ?=` default"
    return found.group(1)


def test_compiled_pipelines_use_the_images_the_chart_and_makefile_build() -> None:
    registry, tag = _makefile_default("REGISTRY"), _makefile_default("TAG")
    values = yaml.safe_load((ROOT / "helm/tickcast/values.yaml").read_text())["image"]
    assert (values["registry"], values["tag"]) == (registry, tag)
    for name in ("daily", "retraining"):
        spec = next(yaml.safe_load_all((ROOT / f"pipelines/{name}.yaml").read_text()))
        for executor, body in spec["deploymentSpec"]["executors"].items():
            image = "trainer" if executor in TRAINING_STEPS else "runtime"
            assert body["container"]["image"] == f"{registry}/{image}:{tag}", (name, executor)
    for manifest in (ROOT / "k8s").rglob("*.yaml"):
        for image in re.findall(r"image: (\S+)", manifest.read_text()):
            assert image == f"{registry}/runtime:{tag}", (manifest, image)
