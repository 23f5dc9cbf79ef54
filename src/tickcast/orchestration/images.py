"""Container images the pipeline components run in: one place, overridable by the environment."""

from __future__ import annotations

import os

# `make images` builds and tags it; compiled pipelines point at whatever this resolves to.
RUNTIME_IMAGE = os.environ.get("TICKCAST_RUNTIME_IMAGE", "tickcast/runtime:0.1.0")
