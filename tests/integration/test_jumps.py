"""Unexplained rows quarantine their ticker from that session on — its prices from there take
no part in training, forecasting or scoring — until accepted; a jump a stored action explains
never does; and the shipped sample, with its real 49 % fall of AGFS on 2016-11-09, quarantines
nothing by default."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import STOCKNET_DIR, copy_stocknet
from tickcast.cli.app import app
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.data.jumps import accept, quarantined_tickers
from tickcast.db.connection import connect, database_url
from tickcast.db.forecasts import upsert_predictions
from tickcast.db.prices import load_prices
from tickcast.features.dataset import build_dataset, load_dataset
from tickcast.features.prediction_input import spec_matrix
from tickcast.ops.monitor import monitor_model

TICKERS = ["AAPL", "MSFT", "XOM"]
JUMP = date(2016, 6, 2)  # AAPL's prices tripled from here on: an unrecorded 1:3 reverse split
PRICES = ["Open", "High", "Low", "Close", "Adj Close"]


def tripled(folder: Path) -> None:
    rows = pd.read_csv(folder / "AAPL.csv")
    later = pd.to_datetime(rows["Date"]).dt.date >= JUMP
    rows.loc[later, PRICES] *= 3
    rows.to_csv(folder / "AAPL.csv", index=False)


@pytest.fixture
def jumped(settings: Settings, tmp_path: Path) -> Settings:
    folder = copy_stocknet(TICKERS, tmp_path / "csv")
    tripled(folder)
    configured = settings.with_overrides(
        {"tickers": TICKERS, "data": {"csv": {"path": str(folder)}}}
    )
    assert ingest_prices(configured).status == "succeeded"
    return configured


def cut_short(settings: Settings) -> dict[str, str]:
    """The tickers the dataset keeps only up to their quarantine, with the reason (its report);
    their prices from there are no part of it."""
    version = build_dataset(settings, as_of=date(2017, 6, 30))
    assert version.dropped_tickers == []
    _, arrays = load_dataset(settings, version.id)
    matrix = arrays.matrix
    cut = version.report.partition("## Tickers cut short")[2]
    found = dict(re.findall(r"^\| (\w+) \| (quarantined.+) \|$", cut, re.MULTILINE))
    for ticker in matrix.tickers:
        last = matrix.dates[np.isfinite(matrix.close[:, matrix.tickers.index(ticker)])][-1]
        assert (last.date() < JUMP) == (ticker in found), (ticker, last)
    return found


def forecast_quarantined(settings: Settings) -> dict[str, str]:
    """The tickers the forecasting matrix (what predict reads) quarantines, with the reason."""
    spec = build_dataset(settings, as_of=date(2017, 6, 30)).feature_spec()
    _, decisions = spec_matrix(settings, spec, date(2017, 6, 30), start=date(2015, 6, 1))
    return {d.ticker: d.reason for d in decisions if d.quarantined}


def test_an_unexplained_jump_quarantines_its_ticker_until_accepted(jumped: Settings) -> None:
    quarantined = cut_short(jumped)
    assert list(quarantined) == ["AAPL"], quarantined  # the others go on
    assert "quarantined from 2016-06-02: an unexplained move of +1.09 in log" in quarantined["AAPL"]
    assert "`tickcast prices accept AAPL 2016-06-02`" in quarantined["AAPL"]
    assert forecast_quarantined(jumped) == quarantined

    runner = CliRunner()
    missing = runner.invoke(app, ["prices", "accept", "AAPL", "2016-06-04"], env=_env(jumped))
    assert missing.exit_code == 2 and "AAPL has no stored price on 2016-06-04" in missing.output
    accepted = runner.invoke(
        app, ["prices", "accept", "aapl", "2016-06-02", "--note", "planted"], env=_env(jumped)
    )
    assert accepted.exit_code == 0, accepted.output
    assert "accepted: AAPL on 2016-06-02 (+1.0" in accepted.output
    assert cut_short(jumped) == {}
    assert forecast_quarantined(jumped) == {}  # the acceptance moved the prices' version


def test_a_jump_a_stored_action_explains_is_never_quarantined(
    jumped: Settings, tmp_path: Path
) -> None:
    folder = Path(jumped.data.csv.path)
    (folder / "actions").mkdir()
    pd.DataFrame(
        [{"ticker": "AAPL", "date": JUMP.isoformat(), "kind": "split", "value": 1 / 3}]
    ).to_csv(folder / "actions" / "actions.csv", index=False)
    result = ingest_prices(jumped)
    assert result.status == "succeeded" and not result.notes  # the folder is no ticker
    assert cut_short(jumped) == {}

    # Declared as traded, the same file is adjusted: the move is gone from the stored returns.
    traded = jumped.with_overrides({"data": {"csv": {"prices": "as_traded"}}})
    assert ingest_prices(traded, full_refresh=True).status == "succeeded"
    with connect(database_url(traded)) as conn:
        stored = load_prices(conn, ["AAPL"]).set_index("trade_date")["adj_close"]
    assert abs(np.log(stored[JUMP] / stored.shift(1)[JUMP])) < 0.1


def test_the_shipped_sample_quarantines_nothing(settings: Settings) -> None:
    everything = settings.with_overrides({"data": {"csv": {"path": str(STOCKNET_DIR)}}})
    assert ingest_prices(everything).status == "succeeded"
    with connect(database_url(everything)) as conn:
        prices = load_prices(conn)
        assert quarantined_tickers(conn, prices, everything.validation) == {}
        tighter = everything.validation.model_copy(
            update={"outlier_log_return": 0.4, "plausible_log_band": 0.8}
        )
        strict = quarantined_tickers(conn, prices, tighter)
    agfs = prices[prices["ticker"] == "AGFS"].set_index("trade_date")["adj_close"]
    assert np.log(agfs[date(2016, 11, 9)] / agfs.shift(1)[date(2016, 11, 9)]) < -0.67  # real
    assert {t: q.since for t, q in strict.items()} == {"AGFS": date(2016, 11, 9)}
    assert [f.trade_date for f in strict["AGFS"].findings][:2] == [
        date(2016, 11, 9),
        date(2016, 11, 10),  # 0.86 below the median of its previous 20 sessions
    ]


def _env(settings: Settings) -> dict[str, str]:
    return {
        "TICKCAST_DATABASE__URL": str(settings.database.url),
        "TICKCAST_TICKERS": '["AAPL", "MSFT", "XOM"]',
    }


def test_a_quarantined_tickers_forecasts_wait_unscored_until_accepted(jumped: Settings) -> None:
    before = date(2016, 6, 1)
    with connect(database_url(jumped)) as conn:
        closes = load_prices(conn, ["AAPL", "MSFT"], end=before, start=before)
        upsert_predictions(
            conn,
            [
                {
                    "target_date": JUMP,
                    "ticker": ticker,
                    "model_name": jumped.mlflow.model_name,
                    "model_version": 1,
                    "run_id": "r",
                    "dataset_id": "d",
                    "predicted_log_return": 0.0,
                    "predicted_close": close,
                    "last_close": close,
                    "last_close_date": before,
                }
                for ticker, close in zip(closes["ticker"], closes["close"], strict=True)
            ],
        )
    first = monitor_model(jumped, JUMP, None)
    assert first.scored == 1 and list(first.held) == ["AAPL"]  # its outcome may be wrong
    assert first.held["AAPL"].startswith("quarantined from 2016-06-02")
    accept(jumped, "AAPL", JUMP, "planted")
    after = monitor_model(jumped, JUMP, None)
    assert after.scored == 1 and after.held == {}
