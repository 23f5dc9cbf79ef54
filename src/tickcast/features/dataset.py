"""Dataset versions: stored prices -> immutable, content-addressed arrays + a catalog row.

A version holds the aligned feature panel (sessions x stocks x features, unscaled), the targets,
the raw closes, the chronological split and the scalers fitted on its training rows. Its id is
derived from the sha256 of that content, so building twice from the same stored data and config
gives the same version, and one more ingested day gives a new one.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tickcast.artifacts import artifact_uri, open_artifact
from tickcast.config import DatasetSettings, Settings
from tickcast.data.calendar import TradingCalendar, trading_calendar
from tickcast.db.connection import open_connection
from tickcast.db.datasets import get_dataset, insert_dataset
from tickcast.db.migrate import apply_migrations
from tickcast.db.prices import load_prices
from tickcast.features.correlation import DroppedFeature, correlation_filter
from tickcast.features.indicators import warmup_sessions
from tickcast.features.matrix import FeatureMatrix, feature_matrix
from tickcast.features.panel import PricePanel, build_panel
from tickcast.features.report import dataset_report
from tickcast.features.scaling import Scalers, fit_scalers, scale
from tickcast.features.spec import FeatureSpec
from tickcast.features.split import Split, chronological_split
from tickcast.features.windows import windows

_ARRAYS = ("dates", "values", "targets", "close", "filled", "scaler_mean", "scaler_std")


class DatasetNotFoundError(LookupError):
    """No catalogued dataset version has that id."""


class DatasetIntegrityError(RuntimeError):
    """A dataset's stored arrays no longer match the hash in the catalog."""


class SplitPart(BaseModel):
    """One part of the split: its anchor rows, their dates and their target dates."""

    first_row: int
    last_row: int
    samples: int
    first_anchor: date
    last_anchor: date
    first_target: date
    last_target: date


class DatasetVersion(BaseModel):
    """The catalog entry of a dataset version (what the pipeline passes around is its id)."""

    id: str
    created_at: datetime | None = None
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

    def anchors(self, part: str) -> list[int]:
        """Anchor rows of `part` (train, validation or test)."""
        split = self.splits[part]
        return list(range(split.first_row, split.last_row + 1))

    def feature_spec(self) -> FeatureSpec:
        return FeatureSpec(
            dataset_id=self.id,
            tickers=self.tickers,
            features=self.features,
            panel_start=self.panel_start,
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
        """Every row scaled once (scaling is elementwise: windows of it equal scaled windows)."""
        return scale(self.matrix.values, self.scalers)

    def inputs(self, anchors: range | list[int]) -> np.ndarray:
        """Scaled windows (samples, sequence, stocks, features) ending at the anchor rows."""
        return windows(self.scaled_values, self.sequence_length, list(anchors))

    def targets(self, anchors: range | list[int]) -> np.ndarray:
        """Forward log returns (samples, stocks) of the anchor rows."""
        return self.matrix.targets[list(anchors)]


@dataclass(frozen=True)
class _Assembled:
    panel: PricePanel
    arrays: DatasetArrays
    split: Split
    warmup: int
    dropped_features: list[DroppedFeature]


def build_dataset(
    settings: Settings,
    as_of: date | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> DatasetVersion:
    """The "build dataset" step: every stored price up to `as_of` -> a catalogued version.

    Returns the existing version when the same content was built before.
    """
    stage = on_stage or (lambda _: None)
    calendar = trading_calendar(settings.calendar.exchange, settings.calendar.first_session)
    with open_connection(settings) as conn:
        apply_migrations(conn)
        stage("loading prices")
        prices = load_prices(conn, settings.tickers or None, end=as_of)
        stage("aligning the panel and computing features")
        assembled = _assemble(settings, prices, calendar, as_of)
        version = _describe(settings, assembled, calendar)
        digest = content_hash(assembled.arrays, version)
        dataset_id = f"ds-{digest[:12]}"
        existing = get_dataset(conn, dataset_id)
        if existing is not None:
            return DatasetVersion.model_validate(existing)
        stage("writing artifacts")
        report = dataset_report(dataset_id, version, assembled.panel.decisions, assembled.arrays)
        version = version.model_copy(
            update={
                "id": dataset_id,
                "content_sha256": digest,
                "artifact_uri": artifact_uri(settings, "datasets", dataset_id, "dataset.npz"),
                "report": report,
            }
        )
        _write_arrays(version.artifact_uri, assembled.arrays)
        with open_artifact(
            artifact_uri(settings, "datasets", dataset_id, "report.md"), "wb"
        ) as file:
            file.write(report.encode())
        insert_dataset(conn, version.model_dump(mode="json", exclude={"created_at"}))
        return DatasetVersion.model_validate(get_dataset(conn, dataset_id))


def _assemble(
    settings: Settings, prices: pd.DataFrame, calendar: TradingCalendar, as_of: date | None
) -> _Assembled:
    """Panel -> indicators -> split -> (optional) correlation filter -> train-only scalers."""
    spec, names = settings.dataset, settings.features.indicators
    panel = build_panel(prices, calendar, spec, end=as_of)
    warmup = warmup_sessions(names)
    matrix = feature_matrix(panel, names, warmup, spec.horizon)
    split = chronological_split(len(matrix.dates), spec.sequence_length, spec.horizon, spec.split)
    training_rows = range(0, split.train.stop)  # every row a training window reads
    dropped: list[DroppedFeature] = []
    threshold = settings.features.correlation_threshold
    if threshold is not None:
        kept, dropped = correlation_filter(matrix.values, names, training_rows, threshold)
        matrix = matrix.select(kept)
    scalers = fit_scalers(matrix.values, training_rows)
    return _Assembled(
        panel, DatasetArrays(matrix, scalers, spec.sequence_length), split, warmup, dropped
    )


def load_dataset(settings: Settings, dataset_id: str) -> tuple[DatasetVersion, DatasetArrays]:
    """A catalogued version and its arrays, checked against the catalog's sha256."""
    with open_connection(settings) as conn:
        row = get_dataset(conn, dataset_id)
    if row is None:
        raise DatasetNotFoundError(f"no dataset version {dataset_id!r} in the catalog")
    version = DatasetVersion.model_validate(row)
    arrays = _read_arrays(version)
    digest = content_hash(arrays, version)
    if digest != version.content_sha256:
        raise DatasetIntegrityError(
            f"dataset {dataset_id}: arrays at {version.artifact_uri} hash to {digest}, "
            f"the catalog says {version.content_sha256}"
        )
    return version, arrays


def content_hash(arrays: DatasetArrays, version: DatasetVersion) -> str:
    """sha256 over the arrays' bytes and the metadata that gives them meaning."""
    digest = hashlib.sha256()
    meta = {
        "tickers": version.tickers,
        "features": version.features,
        "dropped_tickers": version.dropped_tickers,
        "dropped_features": version.dropped_features,
        "panel_start": str(version.panel_start),
        "horizon": version.horizon,
        "sequence_length": version.sequence_length,
        "warmup_sessions": version.warmup_sessions,
        "splits": {k: v.model_dump(mode="json") for k, v in version.splits.items()},
        "config": version.config,
    }
    digest.update(json.dumps(meta, sort_keys=True).encode())
    for name, array in _array_fields(arrays).items():
        digest.update(name.encode())
        digest.update(str(array.dtype).encode() + str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _describe(
    settings: Settings, assembled: _Assembled, calendar: TradingCalendar
) -> DatasetVersion:
    """The catalog entry, less its id, hash, artifact URI and report."""
    matrix = assembled.arrays.matrix
    dates = [d.date() for d in matrix.dates]
    horizon = settings.dataset.horizon

    def target_date(row: int) -> date:
        day = dates[min(row + horizon, len(dates) - 1)]
        for _ in range(row + horizon - (len(dates) - 1)):
            day = calendar.next_session(day)
        return day

    splits = {
        name: SplitPart(
            first_row=part.start,
            last_row=part.stop - 1,
            samples=len(part),
            first_anchor=dates[part.start],
            last_anchor=dates[part.stop - 1],
            first_target=target_date(part.start),
            last_target=target_date(part.stop - 1),
        )
        for name, part in assembled.split.parts().items()
    }
    return DatasetVersion(
        id="",
        content_sha256="",
        artifact_uri="",
        panel_start=assembled.panel.dates[0].date(),
        source_start=dates[0],
        source_end=dates[-1],
        tickers=matrix.tickers,
        dropped_tickers=[
            {
                "ticker": d.ticker,
                "reason": d.reason,
                "first": str(d.first),
                "last": str(d.last),
                "sessions": d.sessions,
            }
            for d in assembled.panel.decisions
            if not d.kept
        ],
        features=matrix.features,
        dropped_features=[asdict(d) for d in assembled.dropped_features],
        horizon=horizon,
        sequence_length=settings.dataset.sequence_length,
        warmup_sessions=assembled.warmup,
        splits=splits,
        panel_rows=len(dates),
        config={
            "features": settings.features.model_dump(mode="json"),
            "dataset": settings.dataset.model_dump(mode="json"),
            "calendar": settings.calendar.model_dump(mode="json"),
            "tickers": settings.tickers,
        },
        report="",
    )


def _array_fields(arrays: DatasetArrays) -> dict[str, np.ndarray]:
    matrix = arrays.matrix
    return {
        "dates": matrix.dates.to_numpy().astype("datetime64[D]").astype(np.int64),
        "values": matrix.values,
        "targets": matrix.targets,
        "close": matrix.close,
        "filled": matrix.filled.astype(bool),
        "scaler_mean": arrays.scalers.mean,
        "scaler_std": arrays.scalers.std,
    }


def _write_arrays(uri: str, arrays: DatasetArrays) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **_array_fields(arrays))  # type: ignore[arg-type]
    with open_artifact(uri, "wb") as file:
        file.write(buffer.getvalue())


def _read_arrays(version: DatasetVersion) -> DatasetArrays:
    with open_artifact(version.artifact_uri, "rb") as file:
        stored = np.load(io.BytesIO(file.read()))
        fields = {name: stored[name] for name in _ARRAYS}
    matrix = FeatureMatrix(
        dates=pd.DatetimeIndex(fields["dates"].astype("datetime64[D]").astype("datetime64[ns]")),
        tickers=version.tickers,
        features=version.features,
        values=fields["values"],
        targets=fields["targets"],
        close=fields["close"],
        filled=fields["filled"],
    )
    scalers = Scalers(mean=fields["scaler_mean"], std=fields["scaler_std"])
    return DatasetArrays(matrix, scalers, version.sequence_length)
