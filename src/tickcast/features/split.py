"""Chronological train / validation / test split of the window anchors, with a horizon gap."""

from __future__ import annotations

from dataclasses import dataclass

from tickcast.config import SplitSettings


class SplitError(ValueError):
    """Too few sessions for the requested windows and splits."""


@dataclass(frozen=True)
class Split:
    """Anchor rows (the last row of each window) of each part, as half-open [start, stop) ranges.

    Between parts `horizon` anchors are skipped, so no training target (the price `horizon`
    sessions after its anchor) falls on a validation or test anchor, and every validation and
    test target date is after every training target date.
    """

    train: range
    validation: range
    test: range

    def parts(self) -> dict[str, range]:
        return {"train": self.train, "validation": self.validation, "test": self.test}


def chronological_split(
    rows: int, sequence_length: int, horizon: int, fractions: SplitSettings
) -> Split:
    """Split the anchors that have a full window behind them and a target ahead of them."""
    first, last = sequence_length - 1, rows - 1 - horizon  # inclusive
    usable = last - first + 1 - 2 * horizon
    n_train = int(usable * fractions.train)
    n_validation = int(usable * fractions.validation)
    n_test = usable - n_train - n_validation
    if min(n_train, n_validation, n_test) < 1:
        raise SplitError(
            f"{rows} panel sessions leave {max(usable, 0)} samples for sequence_length "
            f"{sequence_length} and horizon {horizon}: too few for train, validation and test"
        )
    train = range(first, first + n_train)
    validation = range(train.stop + horizon, train.stop + horizon + n_validation)
    test = range(validation.stop + horizon, last + 1)
    return Split(train, validation, test)
