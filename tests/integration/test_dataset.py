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
    DatasetArrays,
    DatasetIntegrityError,
    DatasetNotFoundError,
    DatasetVersion,
    build_dataset,
    load_dataset,
)
from tickcast.features.panel import PanelError
from tickcast.features.prediction_input import StaleDataError, build_prediction_input

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
    dropped = {d["ticker"]: d["reason"] for d in version.dropped_tickers}
    assert set(dropped) == {"ABBV", "AGFS", "BABA", "GMRE"}
    assert all(reason.startswith("late starter") for reason in dropped.values())
    assert len(version.tickers) == 84 and "PTR" in version.tickers  # its null day is filled
    assert version.source_end == LAST
    for ticker in dropped:
        assert f"| {ticker} | late starter" in version.report
    assert "3 ticker-sessions forward-filled" in version.report

    loaded, arrays = load_dataset(settings, version.id)
    assert loaded == version
    assert arrays.matrix.values.shape == (version.panel_rows, 84, len(version.features))
    parts = version.splits
    anchors_with_targets = version.panel_rows - (version.sequence_length - 1) - version.horizon
    assert sum(p.samples for p in parts.values()) == anchors_with_targets - 2 * version.horizon
    train = parts["train"]
    x, y = (
        arrays.inputs(range(train.first_row, train.last_row + 1)),
        arrays.targets(range(train.first_row, train.last_row + 1)),
    )
    assert x.shape == (train.samples, version.sequence_length, 84, len(version.features))
    assert y.shape == (train.samples, 84) and not np.isnan(y).any()
    assert x.dtype == np.float32 and np.isfinite(x).all()


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
    expected = arrays.inputs([last_row])
    assert prediction.window.dtype == expected.dtype
    assert prediction.window.tobytes() == expected.tobytes()  # bit-identical
    assert prediction.anchor_date == LAST
    assert prediction.target_date == date(2017, 9, 5)  # Friday -> Tuesday after Labor Day
    np.testing.assert_array_equal(prediction.last_close, arrays.matrix.close[last_row])

    earlier = CAL.previous_session(CAL.previous_session(LAST))
    past = build_prediction_input(settings, version.feature_spec(), arrays.scalers, as_of=earlier)
    assert past.window.tobytes() == arrays.inputs([last_row - 2]).tobytes()


def test_prediction_input_refuses_stale_or_missing_data(
    settings: Settings, subset_dir: Path
) -> None:
    settings = small(settings)
    version, arrays = ingest_and_build(settings, subset_dir)
    with pytest.raises(StaleDataError, match=r"must end on 2017-09-05 .* AAPL \(2017-09-01\)"):
        build_prediction_input(
            settings, version.feature_spec(), arrays.scalers, as_of=date(2017, 9, 5)
        )
    allowed = build_prediction_input(
        settings, version.feature_spec(), arrays.scalers, as_of=date(2017, 9, 5), allow_stale=True
    )
    assert allowed.anchor_date == LAST

    with connect(settings.database.url or "") as conn:
        conn.execute("DELETE FROM raw_prices WHERE ticker = 'XOM'")
    with pytest.raises(
        PanelError, match=r"required tickers have no stored prices up to 2017-09-01: \['XOM'\]"
    ):
        build_prediction_input(settings, version.feature_spec(), arrays.scalers, as_of=LAST)


def test_no_leakage_from_later_prices(settings: Settings, subset_dir: Path) -> None:
    settings = small(settings)
    before, arrays = ingest_and_build(settings, subset_dir)
    train, test = before.splits["train"], before.splits["test"]

    # Scalers are the statistics of the training rows alone.
    training = arrays.matrix.values[: train.last_row + 1]
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
    arrays["values"][0, 0, 0] += 1.0
    np.savez_compressed(path, **arrays)
    with pytest.raises(DatasetIntegrityError, match="hash to"):
        load_dataset(settings, version.id)


def test_an_infinite_price_stored_before_validation_stops_the_build(
    settings: Settings, subset_dir: Path
) -> None:
    """Defence in depth: a store written before the finite-price rule (its constraint is NOT
    VALID) still yields no dataset with infinities, but a clear error naming ticker and session."""
    ingest_prices(settings, source="csv", csv_path=subset_dir)
    with connect(settings.database.url or "") as conn:
        conn.execute("ALTER TABLE raw_prices DROP CONSTRAINT raw_prices_finite_prices")
        conn.execute(
            "UPDATE raw_prices SET adj_close = 'Infinity', high = 'Infinity'"
            " WHERE ticker = 'GE' AND trade_date = '2016-03-14'"
        )
    with pytest.raises(
        PanelError, match=r"infinite for GE on 2016-03-1\d.*check the stored prices of GE"
    ):
        build_dataset(small(settings))
    with connect(settings.database.url or "") as conn:
        assert conn.execute("SELECT count(*) FROM datasets").fetchone() == (0,)
