from datetime import date
from pathlib import Path

import pytest

from tickcast.data.sources import SourceError
from tickcast.data.sources.csv_dir import CsvDirectorySource

NEW_YORK = "America/New_York"
YAHOO = "Date,Open,High,Low,Close,Adj Close,Volume\n"
ALPHA = "timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient\n"


def test_both_layouts_and_any_row_order(tmp_path: Path) -> None:
    (tmp_path / "aaa.csv").write_text(
        YAHOO + "2017-01-03,1,2,0.5,1.5,1.4,100\n2017-01-04,1,2,0.5,1.5,1.4,200\n"
    )
    (tmp_path / "BBB.csv").write_text(
        ALPHA + "2017-01-04,1,2,0.5,1.5,1.4,200,0.0,1.0\n2017-01-03,1,2,0.5,1.5,1.4,100,0.0,1.0\n"
    )
    source = CsvDirectorySource(tmp_path, NEW_YORK)
    assert source.available_tickers() == ["AAA", "BBB"]
    for ticker in ("AAA", "BBB"):
        frame = source.fetch(ticker, None, None)
        assert list(frame.columns) == [
            "trade_date",
            "open",
            "high",
            "low",
            "close",
            "adj_close",
            "volume",
            "row",
        ]
        assert len(frame) == 2
    descending = source.fetch("BBB", None, None)
    assert descending["row"].tolist() == [2, 3]  # file line numbers
    assert source.fetch("BBB", date(2017, 1, 3), None)["trade_date"].tolist() == ["2017-01-04"]
    assert source.fetch("aaa", None, date(2017, 1, 3))["trade_date"].tolist() == ["2017-01-03"]


def test_unparseable_dates_survive_the_window(tmp_path: Path) -> None:
    (tmp_path / "X.csv").write_text(
        YAHOO + "2017-01-03,1,2,0.5,1.5,1.4,1\nJan 4th,1,2,0.5,1.5,1.4,1\n"
    )
    frame = CsvDirectorySource(tmp_path, NEW_YORK).fetch("X", date(2017, 1, 3), None)
    assert frame["trade_date"].tolist() == ["Jan 4th"]


def test_errors_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "EMPTY.csv").write_text("")
    (tmp_path / "ODD.csv").write_text("day,price\n2017-01-03,1\n")
    source = CsvDirectorySource(tmp_path, NEW_YORK)
    with pytest.raises(SourceError, match=r"EMPTY\.csv is empty"):
        source.fetch("EMPTY", None, None)
    with pytest.raises(SourceError, match="neither a 'Date' nor a 'timestamp'"):
        source.fetch("ODD", None, None)
    with pytest.raises(SourceError, match=r"unknown ticker: no file NOPE\.csv"):
        source.fetch("NOPE", None, None)
    with pytest.raises(SourceError, match="does not exist"):
        CsvDirectorySource(tmp_path / "missing", NEW_YORK)
