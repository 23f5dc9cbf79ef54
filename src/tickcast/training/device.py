"""Where training runs: CUDA when present (or asked for), otherwise every CPU core."""

from __future__ import annotations

import os

import torch


def select_device(preference: str = "auto") -> torch.device:
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("training.device is cuda but no CUDA device is available")
    if preference in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
    return torch.device("cpu")
