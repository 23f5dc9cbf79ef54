"""Dataset versions end to end on real stored prices: policy, catalog, reproducibility, leakage."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import copy_stocknet
from tickcast.config import Settings
from tickcast.data.calendar import trading_calendar
from tickcast.data.ingest import ingest_prices
from tickcast.db.connection import connect
from tickcast.db.prices import load_prices, upsert_prices
from tickcast.features.dataset import (
    DatasetIntegrityError,
    DatasetNotFoundError,
    build_dataset,
    load_dataset,
)
from tickcast.features.dataset_version import DatasetArrays, DatasetVersion
from tickcast.features.prediction_input import StaleDataError, build_prediction_input
from tickcast.features.samples import Samples

CAL = trading_calendar()
LAST = date(2017, 9, 1)
SUBSET = ["AAPL", "BABA", "GE", "JPM", "MSFT", "PTR", "XOM"]


def small(settings: Settings) -> Settings:
    return settings.with_overrides({"dataset": {"sequence_length": 10}})


@pytest.fixture
def subset_dir(stocknet_dir: Path, tmp_path: Path) -> Path:
    return copy_stocknet(SUBSET, tmp_path / "subset")


def ingest_and_build(settings: Settings, directory: Path) -> tuple[DatasetVersion, DatasetArrays]:
    """Store the CSVs, build a version and load it back."""
    ingest_prices(settings, source="csv", csv_path=directory)
    version = build_dataset(settings)
    return load_dataset(settings, version.id)


def test_whole_stocknet_with_the_ragged_history_policy(
    settings: Settings, stocknet_dir: Path
) -> None:
    ingest_prices(settings, source="csv", csv_path=stocknet_dir)
    version = build_dataset(settings)
    assert version.dropped_tickers == []  # late starters (ABBV, AGFS, BABA, GMRE) included
    assert len(version.tickers) == 88 and {"BABA", "PTR"} <= set(version.tickers)
    assert version.source_end == LAST
    assert "| BABA | 2014-09-19 | 2017-09-01 |" in version.report
    assert "3 forward-filled" in version.report  # PTR's null day, among others

    loaded, arrays = load_dataset(settings, version.id)
    assert loaded == version
    assert arrays.matrix.values.shape == (version.panel_rows, 88, len(version.features))
    parts = version.splits
    known = arrays.usable & np.isfinite(arrays.matrix.targets)
    in_parts = sum(int(known[p.first_row : p.last_row + 1].sum()) for p in parts.values())
    assert sum(p.samples for p in parts.values()) == in_parts
    assert in_parts > int(known.sum()) - 2 * 88 * version.horizon - 88  # only the gaps skipped
    train = arrays.samples(version.rows("train"))
    x, y = arrays.inputs(train), arrays.targets(train)
    assert x.shape == (parts["train"].samples, version.sequence_length, len(version.features))
    assert y.shape == (parts["train"].samples,) and not np.isnan(y).any()
    assert x.dtype == np.float32 and np.isfinite(x).all()
    baba = version.tickers.index("BABA")
    assert (train.columns == baba).any()  # a late starter trains the shared model


def test_same_data_same_version_one_more_day_a_new_one(
    settings: Settings, subset_dir: Path
) -> None:
    settings = small(settings)
    ingest_prices(settings, source="csv", csv_path=subset_dir, end=CAL.previous_session(LAST))
    first = build_dataset(settings)
    again = build_dataset(settings)
    assert (again.id, again.content_sha256, again.created_at) == (
        first.id,
        first.content_sha256,
        first.created_at,
    )
    assert first.id == f"ds-{first.content_sha256[:12]}"

    ingest_prices(settings, source="csv", csv_path=subset_dir)
    later = build_dataset(settings)
    assert later.id != first.id and later.content_sha256 != first.content_sha256
    assert later.source_end == LAST
    as_of_before = build_dataset(settings, as_of=CAL.previous_session(LAST))
    assert as_of_before.id == first.id  # rebuilding the past gives the past version back


def test_prediction_input_equals_the_last_dataset_window(
    settings: Settings, subset_dir: Path
) -> None:
    settings = small(settings)
    version, arrays = ingest_and_build(settings, subset_dir)
    prediction = build_prediction_input(
        settings, version.feature_spec(), arrays.scalers, as_of=LAST
    )
    last_row = version.panel_rows - 1
    assert prediction.tickers == version.tickers and prediction.skipped == []
    every = Samples(np.full(len(SUBSET), last_row), np.arange(len(SUBSET)))
    expected = arrays.inputs(every)
    assert prediction.windows.dtype == expected.dtype
    assert prediction.windows.tobytes() == expected.tobytes()  # bit-identical
    assert prediction.anchor_date == LAST
    assert prediction.target_date == date(2017, 9, 5)  # Friday -> Tuesday after Labor Day
    np.testing.assert_array_equal(prediction.last_close, arrays.matrix.close[last_row])


def test_stale_tickers_are_skipped_and_stale_data_refused(
    settings: Settings, subset_dir: Path
) -> None:
    settings = small(settings)
    version, arrays = ingest_and_build(settings, subset_dir)
    spec = version.feature_spec()
    with pytest.raises(
        StaleDataError, match=r"must end on 2017-09-05 .* newest stored .* 2017-09-01"
    ):
        build_prediction_input(settings, spec, arrays.scalers, as_of=date(2017, 9, 5))
    allowed = build_prediction_input(
        settings, spec, arrays.scalers, as_of=date(2017, 9, 5), allow_stale=True
    )
    assert allowed.anchor_date == LAST and len(allowed.tickers) == len(SUBSET)
    # prices years older than the inputs' last session: the same fact, not "no stored prices"
    with pytest.raises(StaleDataError, match=r"must end on 2020-06-01 .* is 2017-09-01"):
        build_prediction_input(settings, spec, arrays.scalers, as_of=date(2020, 6, 1))
    years = build_prediction_input(
        settings, spec, arrays.scalers, as_of=date(2020, 6, 1), allow_stale=True
    )
    assert years.anchor_date == LAST and years.tickers == allowed.tickers
    np.testing.assert_array_equal(years.windows, allowed.windows)

    with connect(settings.database.url or "") as conn:  # XOM halted: its last two days missing
        conn.execute("DELETE FROM raw_prices WHERE ticker = 'XOM' AND trade_date > '2017-08-30'")
    halted = build_prediction_input(settings, spec, arrays.scalers, as_of=LAST)
    assert "XOM" not in halted.tickers and len(halted.tickers) == len(SUBSET) - 1
    assert [(s.ticker, s.reason) for s in halted.skipped] == [
        ("XOM", "stale: last price 2017-08-30, not 2017-09-01")
    ]


def test_no_leakage_from_later_prices(settings: Settings, subset_dir: Path) -> None:
    settings = small(settings)
    before, arrays = ingest_and_build(settings, subset_dir)
    train, test = before.splits["train"], before.splits["test"]

    # Scalers are the statistics of the training rows alone, every ticker pooled.
    training = arrays.matrix.values[: train.last_row + 1].reshape(-1, len(before.features))
    training = training.astype(np.float64)
    np.testing.assert_allclose(arrays.scalers.mean, np.nanmean(training, axis=0), rtol=0, atol=0)
    np.testing.assert_allclose(arrays.scalers.std, np.nanstd(training, axis=0), rtol=0, atol=0)
    # Every test (and validation) target date is after every training target date.
    assert test.first_target > train.last_target
    assert before.splits["validation"].first_target > train.last_target

    # Rewrite every stored price after the training period's last target date.
    cut = train.last_target
    with connect(settings.database.url or "") as conn:
        stored = load_prices(conn)
        later = stored[stored["trade_date"] > cut].copy()
        factors = np.linspace(0.7, 1.3, len(later))
        for column in ("open", "high", "low", "close", "adj_close"):
            later[column] = later[column] * factors
        later["volume"] = (later["volume"] * 2).astype("int64")
        later["trade_date"] = pd.to_datetime(later["trade_date"])
        upsert_prices(conn, later.drop(columns="source"), "perturbed")
    after = build_dataset(settings)
    _, changed = load_dataset(settings, after.id)

    assert after.id != before.id
    assert after.splits == before.splits
    rows = slice(0, train.last_row + 1 + before.horizon)  # every row dated <= cut
    assert arrays.matrix.dates[rows.stop - 1].date() == cut
    np.testing.assert_array_equal(changed.matrix.values[rows], arrays.matrix.values[rows])
    np.testing.assert_array_equal(
        changed.matrix.targets[: train.last_row + 1], arrays.matrix.targets[: train.last_row + 1]
    )
    np.testing.assert_array_equal(changed.scalers.mean, arrays.scalers.mean)
    np.testing.assert_array_equal(changed.scalers.std, arrays.scalers.std)
    assert not np.array_equal(changed.matrix.values[rows.stop :], arrays.matrix.values[rows.stop :])


def test_unknown_and_tampered_versions_are_refused(settings: Settings, subset_dir: Path) -> None:
    settings = small(settings)
    version, _ = ingest_and_build(settings, subset_dir)
    with pytest.raises(DatasetNotFoundError, match="ds-000000000000"):
        load_dataset(settings, "ds-000000000000")
    path = Path(version.artifact_uri.removeprefix("file://"))
    with np.load(path) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["values"][-1, 0, 0] += 1.0  # a defined cell (the first rows are warm-up, NaN)
    np.savez_compressed(path, **arrays)
    with pytest.raises(DatasetIntegrityError, match="hash to"):
        load_dataset(settings, version.id)


def test_an_infinite_price_stored_before_validation_quarantines_its_ticker(
    settings: Settings, subset_dir: Path
) -> None:
    """Defence in depth: a store written before the finite-price rule (its constraint is NOT
    VALID) still yields no dataset with infinities: the ticker is cut at that session, named."""
    ingest_prices(settings, source="csv", csv_path=subset_dir)
    with connect(settings.database.url or "") as conn:
        conn.execute("ALTER TABLE raw_prices DROP CONSTRAINT raw_prices_finite_prices")
        conn.execute(
            "UPDATE raw_prices SET adj_close = 'Infinity', high = 'Infinity'"
            " WHERE ticker = 'GE' AND trade_date = '2016-03-14'"
        )
    version = build_dataset(small(settings))
    assert (
        "| GE | quarantined from 2016-03-14: an adjusted close of inf on 2016-03-14"
        in (version.report.partition("## Tickers cut short")[2])
    )
    _, arrays = load_dataset(small(settings), version.id)
    ge = arrays.matrix.tickers.index("GE")
    assert np.isfinite(arrays.matrix.adjusted_close[:, ge]).sum() > 0
    assert (
        not np.isinf(arrays.matrix.adjusted_close).any()
        and not np.isinf(arrays.matrix.values).any()
    )


@pytest.mark.parametrize("damage", ["emptied", "deleted", "truncated"])
def test_a_damaged_dataset_file_is_an_integrity_error(
    settings: Settings, subset_dir: Path, damage: str
) -> None:
    """Exit 7 as the README promises, not an unforeseen error: the file is named and the fix."""
    ingest_prices(settings, source="csv", csv_path=subset_dir)
    version = build_dataset(small(settings))
    path = Path(version.artifact_uri.removeprefix("file://"))
    if damage == "deleted":
        path.unlink()
    else:
        path.write_bytes(b"" if damage == "emptied" else path.read_bytes()[:1000])
    with pytest.raises(DatasetIntegrityError, match=r"cannot be read .*tickcast dataset build"):
        load_dataset(small(settings), version.id)
