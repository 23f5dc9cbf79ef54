"""The container images the pipeline components run in: one place, overridable by the environment.

`make images REGISTRY=... TAG=...` builds `<registry>/<name>:<tag>`; `make compile` with the same
REGISTRY and TAG sets these variables, so the compiled pipelines point at the images built. The
committed YAML names `localhost/tickcast/<name>:<version>` (what `make images` builds here):
what is sent to Kubeflow Pipelines is rewritten to the registry and tag of the environment (the
Helm chart sets them from its image values), so a chart installed from another registry runs
the images it pulled, with its pull secrets.
"""

from __future__ import annotations

import os
import re
from typing import Any

from tickcast import __version__

REGISTRY = os.environ.get("TICKCAST_IMAGE_REGISTRY", "localhost/tickcast")
TAG = os.environ.get("TICKCAST_IMAGE_TAG", __version__)
# CPU: tickcast + kfp; every step but the two that train.
RUNTIME_IMAGE = f"{REGISTRY}/runtime:{TAG}"
# CUDA torch + Ray: tune and train candidate (they run on CPU nodes too).
TRAINER_IMAGE = f"{REGISTRY}/trainer:{TAG}"
# docker-registry Secrets every step's pod pulls its image with (comma-separated names; the chart
# sets them from image.pullSecrets). They must exist where the pipeline pods run.
PULL_SECRETS = tuple(
    name.strip()
    for name in os.environ.get("TICKCAST_IMAGE_PULL_SECRETS", "").split(",")
    if name.strip()
)
# Any registry (host:port/path allowed), one of tickcast's image names, any tag.
_OWN_IMAGE = re.compile(r"^(?:.+/)?(?P<name>runtime|trainer|serving|mlflow):[\w.\-]+$")


def retargeted(documents: list[Any]) -> list[Any]:
    """A compiled pipeline (its YAML documents) with every tickcast image at REGISTRY and TAG,
    and every step's pod pulling with PULL_SECRETS (in the Kubernetes platform spec)."""
    executors = documents[0].get("deploymentSpec", {}).get("executors", {})
    for executor in executors.values():
        container = executor.get("container")
        if container and (own := _OWN_IMAGE.match(container["image"])):
            container["image"] = f"{REGISTRY}/{own['name']}:{TAG}"
    if PULL_SECRETS:
        if len(documents) == 1:
            documents.append({"platforms": {"kubernetes": {"deploymentSpec": {"executors": {}}}}})
        kubernetes = documents[1]["platforms"]["kubernetes"]
        platform = kubernetes.setdefault("deploymentSpec", {}).setdefault("executors", {})
        for name in executors:
            platform.setdefault(name, {})["imagePullSecret"] = [
                {
                    "secretName": secret,
                    "secretNameParameter": {"runtimeValue": {"constant": secret}},
                }
                for secret in PULL_SECRETS
            ]
    return documents
