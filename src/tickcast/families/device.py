"""Where training runs: CUDA when present (or asked for), otherwise the CPU cores it may use."""

from __future__ import annotations

import os

import torch


def select_device(preference: str = "auto") -> torch.device:
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("training.device is cuda but no CUDA device is available")
    if preference in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    # A Ray worker gets OMP_NUM_THREADS = its CPUs per trial: use that, not every core.
    threads = os.environ.get("OMP_NUM_THREADS") or str(len(os.sched_getaffinity(0)))
    torch.set_num_threads(max(1, int(threads)))
    return torch.device("cpu")
