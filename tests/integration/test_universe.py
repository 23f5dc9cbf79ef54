"""The universe as of a date: with a membership file loaded, a dataset trains only on the sessions
each ticker was a member, a ticker that has left is not stale in the daily check, and the reports
say which universe they used; without one, today's tickers count for all of history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import copy_stocknet
from tickcast.cli.app import app
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.data.quality import check_stored_prices
from tickcast.features.dataset import build_dataset, load_dataset

AS_OF = date(2017, 6, 30)
JOINED, LEFT = date(2015, 1, 2), date(2016, 12, 30)
MEMBERS = f"""ticker,from,to
AAPL,2012-01-03,
MSFT,{JOINED},
XOM,2012-01-03,{LEFT}
"""


@pytest.fixture
def market(settings: Settings, tmp_path: Path) -> Settings:
    folder = copy_stocknet(["AAPL", "MSFT", "XOM"], tmp_path / "csv")
    xom = pd.read_csv(folder / "XOM.csv")  # delisted: its prices stop when it leaves
    xom[pd.to_datetime(xom["Date"]).dt.date <= LEFT].to_csv(folder / "XOM.csv", index=False)
    configured = settings.with_overrides(
        {"data": {"csv": {"path": str(folder)}}, "dataset": {"split": {"validation": 0.2}}}
    )
    assert ingest_prices(configured).status == "succeeded"
    return configured


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, list(args), env={"TICKCAST_DATABASE__URL": str(settings.database.url)}
    )
    return result.exit_code, result.output


def sample_dates(settings: Settings) -> dict[str, tuple[date, date]]:
    """Each ticker's first and last session with a target, in the dataset as of AS_OF."""
    version, arrays = load_dataset(settings, build_dataset(settings, AS_OF).id)
    matrix = arrays.matrix
    known = matrix.defined & np.isfinite(matrix.targets)
    return {
        ticker: (matrix.dates[rows[0]].date(), matrix.dates[rows[-1]].date())
        for column, ticker in enumerate(version.tickers)
        if len(rows := np.flatnonzero(known[:, column]))
    }


def test_a_loaded_universe_takes_the_members_of_each_session(
    market: Settings, tmp_path: Path
) -> None:
    todays = check_stored_prices(market, AS_OF)
    assert "XOM" not in todays.healthy  # without a universe XOM is stale: half a year behind
    assert "today's tickers for all of history" in todays.markdown()
    before = sample_dates(market)
    assert before["MSFT"][0] < JOINED

    members = tmp_path / "members.csv"
    members.write_text(MEMBERS)
    code, output = cli(market, "universe", "load", str(members))
    assert code == 0, output
    assert "point-in-time universe: 3 tickers ever members" in output
    code, output = cli(market, "universe", "show", "--as-of", "2017-01-03")
    assert code == 0 and "AAPL, MSFT" in output and "XOM" not in output.splitlines()[-1]

    check = check_stored_prices(market, AS_OF)
    assert [t.ticker for t in check.tickers] == ["AAPL", "MSFT"]  # XOM has left: not stale
    assert check.passed and "point-in-time universe" in check.markdown()
    after = sample_dates(market)
    assert after["MSFT"][0] >= JOINED  # no sample from before it joined
    assert after["XOM"][1] <= LEFT
    assert after["AAPL"] == before["AAPL"]
    version = build_dataset(market, AS_OF)
    assert "Universe: point-in-time universe" in version.report


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("ticker,from,to\nAAPL,2012-01-03,\nAAPL,2014-01-02,2015-01-02\n", "memberships overlap"),
        ("ticker,from,to\nAAPL,2015-01-02,2014-01-02\n", "line 2: AAPL leaves on 2014-01-02"),
        ("ticker,from,to\nAAPL,soon,\n", "line 2: `from` 'soon' is not a date"),
        ("ticker,from,to\nB&Q,2015-01-02,\n", "line 2:"),
        ("name,start\nAAPL,2015-01-02\n", "is not ticker,from,to"),
        ("ticker,from,to\n", "lists no member"),
    ],
)
def test_a_bad_membership_file_is_refused_naming_the_line(
    settings: Settings, tmp_path: Path, content: str, problem: str
) -> None:
    members = tmp_path / "members.csv"
    members.write_text(content)
    code, output = cli(settings, "universe", "load", str(members))
    assert code == 2 and problem in " ".join(output.split()), output
