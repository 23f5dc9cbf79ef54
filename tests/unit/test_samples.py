"""Pooled samples: usable windows never cross an undefined cell; gathering equals slicing."""

from __future__ import annotations

import numpy as np

from tickcast.features.samples import (
    Samples,
    gather_windows,
    samples_where,
    session_chunks,
    usable_windows,
)


def test_a_window_is_usable_only_when_every_cell_is_defined() -> None:
    defined = np.ones((10, 3), dtype=bool)
    defined[:4, 1] = False  # ticker 1 starts late
    defined[6, 2] = False  # ticker 2 has a gap
    usable = usable_windows(defined, 3)
    assert usable[:, 0].tolist() == [False] * 2 + [True] * 8
    assert usable[:, 1].tolist() == [False] * 6 + [True] * 4
    assert usable[:, 2].tolist() == [
        False,
        False,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        True,
    ]


def test_gathered_windows_equal_the_slices_they_index() -> None:
    values = np.random.default_rng(0).normal(size=(12, 4, 2)).astype(np.float32)
    samples = samples_where(usable_windows(np.ones((12, 4), bool), 5), range(6, 9))
    assert set(samples.rows.tolist()) == {6, 7, 8} and len(samples) == 12
    windows = gather_windows(values, samples, 5)
    for i in range(len(samples)):
        row, column = samples.rows[i], samples.columns[i]
        assert np.array_equal(windows[i], values[row - 4 : row + 1, column])
    assert samples.take(slice(0, 4)).sessions() == 1
    assert gather_windows(
        values, Samples(np.array([], np.int64), np.array([], np.int64)), 5
    ).shape == (0, 5, 2)


def test_session_chunks_never_split_a_session() -> None:
    rows = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    chunks = session_chunks(rows, 4)
    assert [(c.start, c.stop) for c in chunks] == [(0, 5), (5, 9), (9, 10)]
    assert session_chunks(np.array([], np.int64), 4) == []
