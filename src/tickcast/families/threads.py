"""How many CPU threads one training process may use."""

from __future__ import annotations

import os


def cpu_threads() -> int:
    """OMP_NUM_THREADS where it is a positive count (a Ray worker gets its CPUs per trial there,
    a parallel test worker 1), otherwise the cores this process may run on: never every core of
    a node whose other cores belong to other processes."""
    configured = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return len(os.sched_getaffinity(0))
