"""The container images the pipeline components run in: one place, overridable by the environment.

`make images REGISTRY=... TAG=...` builds `<registry>/<name>:<tag>`; `make compile` with the same
REGISTRY and TAG sets these variables, so the compiled pipelines point at the images built.
"""

from __future__ import annotations

import os

from tickcast import __version__

REGISTRY = os.environ.get("TICKCAST_IMAGE_REGISTRY", "tickcast")
TAG = os.environ.get("TICKCAST_IMAGE_TAG", __version__)
# CPU: tickcast + kfp; every step but the two that train.
RUNTIME_IMAGE = f"{REGISTRY}/runtime:{TAG}"
# CUDA torch + Ray: tune and train candidate (they run on CPU nodes too).
TRAINER_IMAGE = f"{REGISTRY}/trainer:{TAG}"
