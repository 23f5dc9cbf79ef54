"""Unexplained jumps quarantine their ticker from training (and forecasting, through the same
panel) until accepted; a jump a stored action explains never does; and the shipped sample, with
its real 49 % fall of AGFS on 2016-11-09, quarantines nothing by default."""

from __future__ import annotations

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
from tickcast.data.jumps import quarantined_tickers
from tickcast.db.connection import connect, database_url
from tickcast.db.prices import load_prices
from tickcast.features.dataset import build_dataset
from tickcast.features.prediction_input import spec_matrix

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


def left_out(settings: Settings) -> dict[str, str]:
    version = build_dataset(settings, as_of=date(2017, 6, 30))
    return {d["ticker"]: d["reason"] for d in version.dropped_tickers}


def forecast_left_out(settings: Settings) -> dict[str, str]:
    """The tickers the forecasting matrix (what predict reads) leaves out, with the reason."""
    spec = build_dataset(settings, as_of=date(2017, 6, 30)).feature_spec()
    _, decisions = spec_matrix(settings, spec, date(2017, 6, 30), start=date(2015, 6, 1))
    return {d.ticker: d.reason for d in decisions if not d.kept}


def test_an_unexplained_jump_quarantines_its_ticker_until_accepted(jumped: Settings) -> None:
    dropped = left_out(jumped)
    assert list(dropped) == ["AAPL"], dropped  # the others go on
    assert "unexplained move of +1.09 in log on 2016-06-02" in dropped["AAPL"]
    assert "`tickcast prices accept AAPL 2016-06-02`" in dropped["AAPL"]
    assert forecast_left_out(jumped) == dropped

    runner = CliRunner()
    missing = runner.invoke(app, ["prices", "accept", "AAPL", "2016-06-04"], env=_env(jumped))
    assert missing.exit_code == 2 and "AAPL has no stored price on 2016-06-04" in missing.output
    accepted = runner.invoke(
        app, ["prices", "accept", "aapl", "2016-06-02", "--note", "planted"], env=_env(jumped)
    )
    assert accepted.exit_code == 0, accepted.output
    assert "accepted: AAPL on 2016-06-02 (+1.0" in accepted.output
    assert left_out(jumped) == {}
    assert forecast_left_out(jumped) == {}  # the acceptance moved the prices' version


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
    assert left_out(jumped) == {}

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
        assert quarantined_tickers(conn, prices, everything.validation.outlier_log_return) == {}
        strict = quarantined_tickers(conn, prices, 0.4)
    agfs = prices[prices["ticker"] == "AGFS"].set_index("trade_date")["adj_close"]
    assert np.log(agfs[date(2016, 11, 9)] / agfs.shift(1)[date(2016, 11, 9)]) < -0.67  # real
    assert [j.trade_date for j in strict["AGFS"].jumps] == [date(2016, 11, 9)]


def _env(settings: Settings) -> dict[str, str]:
    return {
        "TICKCAST_DATABASE__URL": str(settings.database.url),
        "TICKCAST_TICKERS": '["AAPL", "MSFT", "XOM"]',
    }
