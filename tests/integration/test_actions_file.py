"""A CSV folder's actions file as a careless user writes it: a bad line fails only its ticker,
naming the line; an impossible dividend is refused; a wrong header names the columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_stocknet
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices

TICKERS = ["AAPL", "MSFT"]


def ingest_with(
    settings: Settings, tmp_path: Path, actions: str, prices: str = "adjusted"
) -> dict[str, list[str]]:
    folder = copy_stocknet(TICKERS, tmp_path / "csv")
    (folder / "actions").mkdir()
    (folder / "actions" / "actions.csv").write_text(actions)
    configured = settings.with_overrides({"data": {"csv": {"path": str(folder), "prices": prices}}})
    result = ingest_prices(configured)
    assert not result.notes  # the actions folder is no ticker
    return {t.ticker: [t.status, *t.messages] for t in result.tickers}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("AAPL,2014-06-09,merger,1", "csv actions row 3: kind 'merger' is not split or dividend"),
        ("AAPL,2014-06-31,split,7", "csv actions row 3: ex-date '2014-06-31' is not a date"),
        ("AAPL,2014-06-09,split,-7", "csv actions row 3: value '-7' must be a positive number"),
        ("AAPL,2014-06-09,split,lots", "csv actions row 3: value 'lots' must be a positive number"),
        ("AAPL,2014-02-06,dividend,0.1", "two dividends on 2014-02-06: keep one"),
    ],
)
def test_a_bad_line_fails_only_its_ticker(
    settings: Settings, tmp_path: Path, line: str, problem: str
) -> None:
    found = ingest_with(
        settings, tmp_path, f"ticker,date,kind,value\naapl,2014-02-06,dividend,0.47\n{line}\n"
    )
    assert found["MSFT"] == ["stored"]
    assert found["AAPL"][0] == "failed" and problem in found["AAPL"][1], found["AAPL"]


def test_a_dividend_above_the_close_is_refused(settings: Settings, tmp_path: Path) -> None:
    found = ingest_with(
        settings, tmp_path, "ticker,date,kind,value\nAAPL,2014-02-06,dividend,5000\n", "as_traded"
    )
    assert found["MSFT"][0] == "stored"
    assert found["AAPL"][0] == "rejected"
    assert "dividend 5000 on 2014-02-06 is not below the close" in " ".join(found["AAPL"])


def test_a_wrong_header_names_the_columns(settings: Settings, tmp_path: Path) -> None:
    found = ingest_with(settings, tmp_path, "symbol,when,what\nAAPL,2014-06-09,split\n")
    for ticker in TICKERS:
        assert found[ticker][0] == "failed"
        assert "lacks ['ticker', 'date', 'kind', 'value']" in found[ticker][1]
