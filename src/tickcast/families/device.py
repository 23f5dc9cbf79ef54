"""Where training runs: CUDA when present (or asked for), otherwise the CPU cores it may use."""

from __future__ import annotations

import torch

from tickcast.families.threads import cpu_threads


def select_device(preference: str = "auto") -> torch.device:
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("training.device is cuda but no CUDA device is available")
    if preference in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    torch.set_num_threads(cpu_threads())
    return torch.device("cpu")
