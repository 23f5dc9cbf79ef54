"""One ticker's absurd price moves no other ticker's forecast.

A cross-stock attention model (each forecast reads every ticker of the session) with rank
features, the market's mean return and volatility bands, forecasting 12 sample tickers for
2017-07-03. With one ticker's close of 2017-06-30 replaced by an absurd but positive price, every
other ticker's forecast and bands equal, to 1e-9, those of the store where that ticker has no
price that day; the bad one is skipped, its row named. Hypothesis plants random extreme closes
in random tickers; the planted case is its first example.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.rows import dict_row

from tests.conftest import _throwaway_database as throwaway_database
from tests.conftest import copy_stocknet
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.db.connection import connect
from tickcast.families.trained import training_data
from tickcast.features.dataset import build_dataset, load_dataset
from tickcast.ops.predict import Forecast, forecast_with
from tickcast.registry.bundle import ForecasterBundle
from tickcast.training.evaluate import calibrated_results
from tickcast.training.fit import train_model
from tickcast.training.intervals import fit_intervals

TICKERS = ["AAPL", "AMZN", "BA", "BAC", "C", "CAT", "CSCO", "CVX", "DIS", "GE", "HD", "XOM"]
TRAINED_TO = date(2017, 3, 31)
LAST = date(2017, 6, 30)  # the forecasts' last session: the bad price is planted here
PRICE_COLUMNS = ("open", "high", "low", "close", "adj_close")
UPDATE = (
    "UPDATE raw_prices SET "
    + ", ".join(f"{name} = %({name})s" for name in PRICE_COLUMNS)
    + " WHERE ticker = %(t)s AND trade_date = %(day)s"
)


def configured(url: str, folder: Path, artifacts: Path) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": url, "connect_retries": 1, "connect_backoff_seconds": 0.01},
            "artifacts": {"root": str(artifacts)},
            "tickers": TICKERS,
            "data": {"csv": {"path": str(folder)}},
            "features": {"indicators": ["log_return", "rsi_14", "volume_z_20"]},
            "dataset": {"sequence_length": 5},
            "training": {
                "max_epochs": 2,
                "device": "cpu",
                "params": {"family": "lstm_cross_stock", "hidden_size": 8},
            },
        }
    )


@pytest.fixture(scope="module")
def model(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForecasterBundle]:
    """A small cross-stock model with intervals, trained on the sample up to TRAINED_TO."""
    folder = copy_stocknet(TICKERS, tmp_path_factory.mktemp("csv"))
    for url in throwaway_database(server_url):
        settings = configured(url, folder, tmp_path_factory.mktemp("artifacts"))
        assert ingest_prices(settings, end=TRAINED_TO).status == "succeeded"
        version = build_dataset(settings)
        _, arrays = load_dataset(settings, version.id)
        params = settings.training.params
        trained = train_model(
            version, arrays, params, settings.training, intervals=settings.intervals
        )
        judged = calibrated_results(trained.forecaster, version, arrays, settings.evaluation)
        intervals = fit_intervals(
            trained,
            arrays,
            training_data(version, arrays),
            judged.samples["test"],
            settings.intervals,
            settings.training.seed,
            judged.calibration,
        )
        yield ForecasterBundle(
            trained.forecaster,
            params,
            version.feature_spec(),
            arrays.scalers,
            judged.calibration,
            intervals.forecaster,
        )


def forecasts(
    settings: Settings, bundle: ForecasterBundle
) -> tuple[dict[str, Forecast], dict[str, str]]:
    _, made, skipped = forecast_with(settings, bundle, LAST)
    return {f.ticker: f for f in made}, {s.ticker: s.reason for s in skipped}


def numbers(forecast: Forecast) -> list[float]:
    return [
        forecast.predicted_log_return,
        *(forecast.predicted_quantiles or []),
        *(forecast.baseline_quantiles or []),
    ]


def test_an_absurd_price_moves_no_other_tickers_forecast(
    model: ForecasterBundle, database_url: str, second_database_url: str, tmp_path: Path
) -> None:
    folder = copy_stocknet(TICKERS, tmp_path / "csv")
    planted = configured(database_url, folder, tmp_path / "a")
    reference = configured(second_database_url, folder, tmp_path / "b")
    for settings in (planted, reference):
        assert ingest_prices(settings, end=LAST).status == "succeeded"
    clean, none_skipped = forecasts(planted, model)
    assert sorted(clean) == TICKERS and none_skipped == {}
    absent: dict[str, dict[str, Forecast]] = {}  # the reference per ticker without LAST

    def without(ticker: str) -> dict[str, Forecast]:
        """The reference store's forecasts when `ticker` has no price on LAST."""
        if ticker not in absent:
            with connect(second_database_url) as conn:
                with conn.cursor(row_factory=dict_row) as cursor:
                    row = cursor.execute(
                        "DELETE FROM raw_prices WHERE ticker = %s AND trade_date = %s RETURNING *",
                        (ticker, LAST),
                    ).fetchone()
                assert row is not None
                try:
                    made, skipped = forecasts(reference, model)
                finally:
                    conn.execute(
                        sql.SQL("INSERT INTO raw_prices ({}) VALUES ({})").format(
                            sql.SQL(", ").join(map(sql.Identifier, row)),
                            sql.SQL(", ").join(map(sql.Placeholder, row)),
                        ),
                        row,
                    )
            assert list(skipped) == [ticker] and skipped[ticker].startswith("stale"), skipped
            absent[ticker] = made
        return absent[ticker]

    @hypothesis_settings(
        max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        ticker=st.sampled_from(TICKERS),
        distance=st.floats(0.8, 12.0) | st.floats(-12.0, -0.8),
    )
    @example(ticker="AAPL", distance=-9.0)  # a close of 0.02 after 144.02
    @example(ticker="XOM", distance=math.log(1000.0))
    def extreme_close(ticker: str, distance: float) -> None:
        where = {"t": ticker, "day": LAST}
        with connect(database_url) as conn, conn.cursor(row_factory=dict_row) as cursor:
            stored = cursor.execute(
                f"SELECT {', '.join(PRICE_COLUMNS)} FROM raw_prices "
                "WHERE ticker = %(t)s AND trade_date = %(day)s",
                where,
            ).fetchone()
            assert stored is not None
            absurd = stored["close"] * math.exp(distance)
            try:
                cursor.execute(UPDATE, {name: absurd for name in PRICE_COLUMNS} | where)
                made, skipped = forecasts(planted, model)
            finally:
                cursor.execute(UPDATE, stored | where)
        assert list(skipped) == [ticker], skipped
        assert skipped[ticker].startswith(f"quarantined from {LAST}: "), skipped[ticker]
        expected = without(ticker)
        assert sorted(made) == sorted(expected)
        for other, forecast in made.items():
            assert numbers(forecast) == pytest.approx(numbers(expected[other]), abs=1e-9, rel=0)

    extreme_close()
