"""A dataset version's catalog entry (DatasetVersion, its SplitParts) and its arrays
(DatasetArrays: the matrix, the scalers, and the samples, inputs and targets indexed into them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tickcast.config import DatasetSettings, FeatureSettings
from tickcast.features.matrix import FeatureMatrix
from tickcast.features.samples import (
    Samples,
    gather_windows,
    samples_where,
    session_chunks,
    usable_windows,
)
from tickcast.features.scaling import Scalers, scale
from tickcast.features.spec import FeatureSpec
from tickcast.models.calibration import row_means

if TYPE_CHECKING:
    from tickcast.models.forecasters import Forecaster

PREDICTION_CHUNK = 65_536  # samples per gathered batch when predicting many sessions


class SplitPart(BaseModel):
    """One part of the split: its anchor rows, their dates and their target dates; samples are
    (ticker, session) pairs with a full window and a known target."""

    first_row: int
    last_row: int
    samples: int
    sessions: int = 0
    first_anchor: date
    last_anchor: date
    first_target: date
    last_target: date


class DatasetVersion(BaseModel):
    """The catalog entry of a dataset version (what the pipeline passes around is its id)."""

    id: str
    created_at: datetime | None = None
    collected_at: datetime | None = None  # its arrays deleted by retention (tickcast gc)
    content_sha256: str
    artifact_uri: str
    panel_start: date
    source_start: date
    source_end: date
    tickers: list[str]
    dropped_tickers: list[dict[str, Any]]
    features: list[str]
    dropped_features: list[dict[str, Any]]
    horizon: int
    sequence_length: int
    warmup_sessions: int
    splits: dict[str, SplitPart]
    panel_rows: int
    config: dict[str, Any]
    report: str

    def rows(self, part: str) -> range:
        """Anchor rows of `part` (train, validation or test)."""
        split = self.splits[part]
        return range(split.first_row, split.last_row + 1)

    def feature_spec(self) -> FeatureSpec:
        return FeatureSpec(
            dataset_id=self.id,
            features=self.features,
            feature_settings=FeatureSettings.model_validate(self.config["features"]),
            warmup_sessions=self.warmup_sessions,
            horizon=self.horizon,
            sequence_length=self.sequence_length,
            policy=DatasetSettings.model_validate(self.config["dataset"]),
        )


@dataclass(frozen=True)
class DatasetArrays:
    """A version's arrays, as written to and read from the artifact store."""

    matrix: FeatureMatrix
    scalers: Scalers
    sequence_length: int

    @cached_property
    def scaled_values(self) -> np.ndarray:
        """Every cell scaled once (scaling is elementwise: windows of it equal scaled windows)."""
        return scale(self.matrix.values, self.scalers)

    @cached_property
    def usable(self) -> np.ndarray:
        """(T, tickers) True where a window ending there is defined throughout."""
        usable: np.ndarray = usable_windows(self.matrix.defined, self.sequence_length)
        return usable

    @cached_property
    def session_mean_targets(self) -> np.ndarray:
        """(T,) each session's mean target over the tickers with a usable window and a known
        target (what a demeaned target subtracts)."""
        return row_means(self.matrix.targets, self.usable)

    @cached_property
    def session_rank_targets(self) -> np.ndarray:
        """(T, tickers) each known target's rank among its session's tickers with a usable window
        and a known target, (rank - 0.5) / tickers - 0.5: in (-0.5, 0.5), symmetric, with a
        session mean of exactly 0 whatever the number of tickers (a mean that moved with it
        would look like a market forecast to the calibration); ties share their mean rank; NaN
        elsewhere (what a rank target learns)."""
        known = self.usable & np.isfinite(self.matrix.targets)
        masked = pd.DataFrame(np.where(known, self.matrix.targets, np.nan))
        shares = (masked.rank(axis=1) - 0.5).div(masked.count(axis=1), axis=0)
        ranked: np.ndarray = (shares - 0.5).to_numpy()
        return ranked

    def samples(self, rows: range) -> Samples:
        """Samples with a usable window and a known target, anchored in `rows`."""
        return samples_where(self.usable & np.isfinite(self.matrix.targets), rows)

    def inputs(self, samples: Samples, sessions: int | None = None) -> np.ndarray:
        """Scaled windows (samples, sequence, features); with `sessions`, only each window's
        last `sessions` sessions (what the tabular families read)."""
        length = min(sessions or self.sequence_length, self.sequence_length)
        return gather_windows(self.scaled_values, samples, length)

    def predict(self, forecaster: Forecaster, samples: Samples) -> np.ndarray:
        """`forecaster`'s raw forecasts for `samples`, gathered a bounded number of whole
        sessions at a time (a session is never split: the cross-stock model sees all of it)."""
        predicted = np.empty(len(samples))
        for chunk in session_chunks(samples.rows, PREDICTION_CHUNK):
            part = samples.take(chunk)
            predicted[chunk] = forecaster.predict(self.inputs(part), part.rows)
        return predicted

    def targets(self, samples: Samples) -> np.ndarray:
        """Forward log returns (samples,)."""
        found: np.ndarray = self.matrix.targets[samples.rows, samples.columns]
        return found

    def close(self, samples: Samples) -> np.ndarray:
        """Raw close on each sample's anchor session (samples,)."""
        found: np.ndarray = self.matrix.close[samples.rows, samples.columns]
        return found
