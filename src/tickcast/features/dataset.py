"""Dataset versions: stored prices -> immutable, content-addressed arrays + a catalog row.

A version holds the (session x ticker x feature) matrix of every ticker's whole history
(unscaled, NaN where undefined), the targets, the raw closes, which cells are defined, the
chronological split of the anchor sessions and the scalers fitted on its training sessions.
Samples - one per (ticker, session) with a fully defined window - are indexed into the matrix,
never materialised. Its id is derived from the sha256 of that content, so building twice from the
same stored data and config gives the same version, and one more ingested day gives a new one.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date

import fsspec
import numpy as np
import pandas as pd

from tickcast.artifacts import artifact_uri, open_artifact
from tickcast.config import DatasetSettings, Settings
from tickcast.data.calendar import TradingCalendar, configured_calendar
from tickcast.data.jumps import Quarantine, quarantined_tickers
from tickcast.data.universe import Universe, stored_universe, universe_label
from tickcast.db.connection import open_connection
from tickcast.db.datasets import get_dataset, insert_dataset, set_collected
from tickcast.db.migrate import ensure_schema
from tickcast.db.prices import load_prices
from tickcast.features.correlation import DroppedFeature, correlation_filter
from tickcast.features.dataset_version import DatasetArrays, DatasetVersion, SplitPart
from tickcast.features.indicators import warmup_sessions
from tickcast.features.matrix import FeatureMatrix, feature_matrix
from tickcast.features.panel import PricePanel, build_panel
from tickcast.features.report import dataset_report
from tickcast.features.samples import (
    usable_windows,
)
from tickcast.features.scaling import Scalers, fit_scalers
from tickcast.features.split import Split, chronological_split

_ARRAYS = (
    "dates",
    "values",
    "targets",
    "close",
    "filled",
    "defined",
    "scaler_mean",
    "scaler_std",
)


class DatasetNotFoundError(LookupError):
    """No catalogued dataset version has that id."""


class DatasetIntegrityError(RuntimeError):
    """A dataset's stored arrays no longer match the hash in the catalog."""


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
    calendar = configured_calendar(settings)
    with open_connection(settings) as conn:
        ensure_schema(conn)
        stage("loading prices")
        universe = stored_universe(conn)
        last = as_of or calendar.latest_completed_session()
        tickers = settings.tickers or None
        if universe is not None:  # every ticker that was a member on some session up to as_of
            members = universe.members_up_to(last)
            tickers = [t for t in members if not settings.tickers or t in settings.tickers]
        prices = load_prices(conn, tickers, end=as_of)
        quarantine = quarantined_tickers(conn, prices, settings.validation)
        stage("aligning the panel and computing features")
        assembled = _assemble(
            settings,
            prices,
            calendar,
            as_of,
            quarantine,
            universe,
        )
        version = _describe(settings, assembled, calendar)
        digest = content_hash(assembled.arrays, version)
        dataset_id = f"ds-{digest[:12]}"
        existing = get_dataset(conn, dataset_id)
        if existing is not None:
            found = DatasetVersion.model_validate(existing)
            # Arrays deleted by retention, or gone otherwise (a lost disk, a restore without
            # them): the same content is written again
            if found.collected_at is not None or not _exists(found.artifact_uri):
                stage("writing artifacts")
                _write_arrays(found.artifact_uri, assembled.arrays)
                set_collected(conn, dataset_id, False)
                found = found.model_copy(update={"collected_at": None})
            return found
        stage("writing artifacts")
        report = dataset_report(
            dataset_id,
            version,
            assembled.panel.decisions,
            assembled.arrays,
            universe_label(universe, last),
        )
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
        insert_dataset(
            conn, version.model_dump(mode="json", exclude={"created_at", "collected_at"})
        )
        return DatasetVersion.model_validate(get_dataset(conn, dataset_id))


def _assemble(
    settings: Settings,
    prices: pd.DataFrame,
    calendar: TradingCalendar,
    as_of: date | None,
    quarantined: dict[str, Quarantine] | None = None,
    universe: Universe | None = None,
) -> _Assembled:
    """Ragged panel -> features -> split -> (optional) correlation filter -> train-only scalers."""
    spec = settings.dataset
    warmup = warmup_sessions(settings.features.indicators)
    panel = build_panel(
        prices,
        calendar,
        min_sessions=minimum_history(spec, warmup),
        max_gap_sessions=spec.max_gap_sessions,
        end=as_of,
        start=spec.start,
        quarantined=quarantined,
        membership=universe,
    )
    matrix = feature_matrix(panel, settings.features, warmup, spec.horizon)
    known = usable_windows(matrix.defined, spec.sequence_length) & np.isfinite(matrix.targets)
    split = chronological_split(known.sum(axis=1), spec.horizon, spec.split)
    training_rows = range(0, split.train.stop)  # every row a training window reads
    dropped: list[DroppedFeature] = []
    threshold = settings.features.correlation_threshold
    if threshold is not None:
        kept, dropped = correlation_filter(matrix.values, matrix.features, training_rows, threshold)
        matrix = matrix.select(kept)
    scalers = fit_scalers(matrix.values, training_rows)
    return _Assembled(
        panel, DatasetArrays(matrix, scalers, spec.sequence_length), split, warmup, dropped
    )


def minimum_history(policy: DatasetSettings, warmup: int) -> int:
    """Stored sessions a ticker needs: the policy's, else warm-up + one window + the horizon."""
    return policy.min_history_sessions or warmup + policy.sequence_length + policy.horizon


def load_dataset(settings: Settings, dataset_id: str) -> tuple[DatasetVersion, DatasetArrays]:
    """A catalogued version and its arrays, checked against the catalog's sha256."""
    with open_connection(settings) as conn:
        row = get_dataset(conn, dataset_id)
    if row is None:
        raise DatasetNotFoundError(f"no dataset version {dataset_id!r} in the catalog")
    version = DatasetVersion.model_validate(row)
    if version.collected_at is not None:
        raise DatasetIntegrityError(
            f"dataset {dataset_id}: its arrays were deleted by retention on "
            f"{version.collected_at:%Y-%m-%d} (tickcast gc); `tickcast dataset build --as-of "
            f"{version.source_end}` with the same configuration writes them back"
        )
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

    arrays = assembled.arrays
    splits = {
        name: SplitPart(
            first_row=part.start,
            last_row=part.stop - 1,
            samples=len(samples := arrays.samples(part)),
            sessions=samples.sessions(),
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
        "defined": matrix.defined.astype(bool),
        **({"adj_close": matrix.adj_close} if matrix.adj_close is not None else {}),
        "scaler_mean": arrays.scalers.mean,
        "scaler_std": arrays.scalers.std,
    }


def _exists(uri: str) -> bool:
    fs, path = fsspec.core.url_to_fs(uri)
    return bool(fs.exists(path))


def _write_arrays(uri: str, arrays: DatasetArrays) -> None:
    """Uncompressed: float features hardly compress, and zlib took a sixth of a retrain."""
    buffer = io.BytesIO()
    np.savez(buffer, **_array_fields(arrays))  # type: ignore[arg-type]
    with open_artifact(uri, "wb") as file:
        file.write(buffer.getvalue())


def _read_arrays(version: DatasetVersion) -> DatasetArrays:
    try:
        with open_artifact(version.artifact_uri, "rb") as file:
            stored = np.load(io.BytesIO(file.read()))
            fields = {name: stored[name] for name in _ARRAYS}
            adj_close = stored["adj_close"] if "adj_close" in stored.files else None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise DatasetIntegrityError(
            f"dataset {version.id}: its arrays at {version.artifact_uri} cannot be read "
            f"({type(error).__name__}: {str(error)[:200]}); rebuild it with `tickcast dataset build`"
        ) from None
    matrix = FeatureMatrix(
        dates=pd.DatetimeIndex(fields["dates"].astype("datetime64[D]").astype("datetime64[ns]")),
        tickers=version.tickers,
        features=version.features,
        values=fields["values"],
        targets=fields["targets"],
        close=fields["close"],
        filled=fields["filled"],
        defined=fields["defined"],
        adj_close=adj_close,
    )
    scalers = Scalers(mean=fields["scaler_mean"], std=fields["scaler_std"])
    return DatasetArrays(matrix, scalers, version.sequence_length)
