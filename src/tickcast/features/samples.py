"""Pooled samples: one per (ticker, session) whose whole window of features is defined, indexed
into the stored (session x ticker x feature) matrix instead of materialised.

A window of `sequence_length` sessions ending on anchor row t for ticker s reads rows
t - sequence_length + 1 .. t of column s; it is usable when every one of those (session,
ticker) cells is defined (the ticker traded, its warm-up was over, no long gap).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Samples:
    """Anchor rows and ticker columns of a set of samples, sorted by row then column."""

    rows: np.ndarray  # int64
    columns: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, positions: np.ndarray | slice) -> Samples:
        return Samples(self.rows[positions], self.columns[positions])

    def sessions(self) -> int:
        return len(np.unique(self.rows))

    def wide(self, values: np.ndarray, tickers: int) -> np.ndarray:
        """`values` (samples,) laid out as (sessions present, tickers), NaN where absent."""
        rows = np.unique(self.rows)
        laid_out = np.full((len(rows), tickers), np.nan)
        laid_out[np.searchsorted(rows, self.rows), self.columns] = values
        return laid_out


def session_chunks(rows: np.ndarray, size: int) -> list[slice]:
    """Slices of sorted `rows` holding whole sessions, about `size` samples each (more when
    one session alone is larger)."""
    if len(rows) == 0:
        return []
    starts = np.concatenate([[0], np.flatnonzero(np.diff(rows)) + 1, [len(rows)]])
    chunks, begin = [], 0
    for position in starts[1:]:
        if position - begin >= size or position == len(rows):
            chunks.append(slice(int(begin), int(position)))
            begin = position
    return chunks


def usable_windows(defined: np.ndarray, sequence_length: int) -> np.ndarray:
    """(T, tickers) True where the window ending on that row is defined throughout."""
    counts = np.cumsum(defined, axis=0, dtype=np.int64)
    behind = np.zeros_like(counts)
    behind[sequence_length:] = counts[:-sequence_length]
    usable: np.ndarray = (counts - behind) == sequence_length
    usable[: sequence_length - 1] = False
    return usable


def samples_where(mask: np.ndarray, rows: range | None = None) -> Samples:
    """The (row, column) cells where `mask` is True, optionally within anchor `rows`."""
    if rows is not None:
        limited = np.zeros_like(mask)
        limited[rows.start : rows.stop] = mask[rows.start : rows.stop]
        mask = limited
    found_rows, found_columns = np.nonzero(mask)
    return Samples(found_rows.astype(np.int64), found_columns.astype(np.int64))


def gather_windows(values: np.ndarray, samples: Samples, sequence_length: int) -> np.ndarray:
    """(samples, sequence_length, features) windows of `values` (T, tickers, features)."""
    offsets = np.arange(-sequence_length + 1, 1, dtype=np.int64)
    rows = samples.rows[:, None] + offsets[None, :]
    if len(samples) and rows.min() < 0:
        raise IndexError(f"an anchor row needs {sequence_length} rows before it")
    windows: np.ndarray = np.ascontiguousarray(values[rows, samples.columns[:, None], :])
    return windows
