"""Sliding windows over the (sessions, stocks, features) array: model inputs per anchor row."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def windows(values: np.ndarray, sequence_length: int, anchors: Sequence[int]) -> np.ndarray:
    """(len(anchors), sequence_length, stocks, features): rows anchor - seq + 1 .. anchor each."""
    view = sliding_window_view(values, sequence_length, axis=0)  # (T - seq + 1, S, F, seq)
    view = np.moveaxis(view, -1, 1)
    positions = np.asarray(anchors, dtype=np.int64) - (sequence_length - 1)
    if len(positions) and (positions.min() < 0 or positions.max() >= len(view)):
        raise IndexError(f"anchors {anchors} need {sequence_length} rows before them")
    return np.ascontiguousarray(view[positions])
