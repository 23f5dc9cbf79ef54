"""Chronological train / validation / test split of the anchor sessions, with a horizon gap.

The parts are ranges of sessions (every ticker's samples of a session fall in the same part),
sized by how many (ticker, session) samples they hold: with tickers starting at different
times, early sessions hold fewer samples than late ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tickcast.config import SplitSettings


class SplitError(ValueError):
    """Too few samples for the requested windows and splits."""


@dataclass(frozen=True)
class Split:
    """Anchor rows of each part, as half-open [start, stop) ranges.

    Between parts `horizon` anchor sessions are skipped, so no training target (the price
    `horizon` sessions after its anchor) falls on a validation or test anchor, and every
    validation and test target date is after every training target date.
    """

    train: range
    validation: range
    test: range

    def parts(self) -> dict[str, range]:
        return {"train": self.train, "validation": self.validation, "test": self.test}


def chronological_split(
    samples_per_row: np.ndarray, horizon: int, fractions: SplitSettings
) -> Split:
    """Split the anchor rows by cumulative sample count (samples_per_row: (T,) counts of usable
    windows with a known target)."""
    rows = np.flatnonzero(samples_per_row)
    total = int(samples_per_row.sum())
    if len(rows) < 3 + 2 * horizon:
        raise SplitError(
            f"{len(rows)} sessions hold {total} usable samples: too few for train, validation "
            f"and test with a {horizon}-session gap between them"
        )
    first, last = int(rows[0]), int(rows[-1])
    cumulative = np.cumsum(samples_per_row)
    train_stop = _row_reaching(cumulative, fractions.train * total, first + 1)
    validation_start = train_stop + horizon
    validation_stop = _row_reaching(
        cumulative, (fractions.train + fractions.validation) * total, validation_start + 1
    )
    test_start = validation_stop + horizon
    split = Split(
        range(first, train_stop),
        range(validation_start, validation_stop),
        range(test_start, last + 1),
    )
    for name, part in split.parts().items():
        if len(part) < 1 or samples_per_row[part.start : part.stop].sum() < 1:
            raise SplitError(
                f"the {name} part gets no samples ({total} usable samples over sessions "
                f"{first}..{last}): add history or change dataset.split"
            )
    return split


def _row_reaching(cumulative: np.ndarray, target: float, at_least: int) -> int:
    """The first row after which the cumulative count reaches `target` (exclusive stop)."""
    return max(int(np.searchsorted(cumulative, target, side="left")) + 1, at_least)
