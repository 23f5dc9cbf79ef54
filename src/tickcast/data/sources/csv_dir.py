"""A directory of one CSV file per ticker, in Yahoo or Alpha Vantage column layout, any row order."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from tickcast.data.sources.base import (
    RAW_COLUMNS,
    ROW_COLUMN,
    YAHOO_COLUMNS,
    PriceSource,
    SourceError,
    within_window,
)

# Header layouts understood, keyed by the name of their date column.
_LAYOUTS: dict[str, dict[str, str]] = {
    "Date": {"Date": "trade_date", **YAHOO_COLUMNS},
    "timestamp": {
        "timestamp": "trade_date",
        "open": "open",
        "high": "high",
        "low": "low",
        "close": "close",
        "adjusted_close": "adj_close",
        "volume": "volume",
    },
}
# Data rows start on line 2 of the file, after the header.
_FIRST_DATA_LINE = 2


class CsvDirectorySource(PriceSource):
    """Reads `<directory>/<TICKER>.csv`; the file stem (any case) is the ticker."""

    name = "csv"

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise SourceError(f"CSV source directory {directory} does not exist")
        self.directory = directory
        self._files = {path.stem.upper(): path for path in sorted(directory.glob("*.csv"))}

    def available_tickers(self) -> list[str]:
        return sorted(self._files)

    def fetch(self, ticker: str, after: date | None, end: date | None) -> pd.DataFrame:
        path = self._files.get(ticker.upper())
        if path is None:
            raise SourceError(f"unknown ticker: no file {ticker}.csv in {self.directory}")
        try:
            raw = pd.read_csv(path, dtype=str, skipinitialspace=True)
        except pd.errors.EmptyDataError:
            raise SourceError(f"{path.name} is empty (no header, no rows)") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as error:
            raise SourceError(f"{path.name} is not a readable CSV file: {error}") from None
        layout = next((_LAYOUTS[key] for key in _LAYOUTS if key in raw.columns), None)
        if layout is None:
            raise SourceError(
                f"{path.name}: header {list(raw.columns)} has neither a 'Date' nor a 'timestamp' "
                "column (expected Date,Open,High,Low,Close,Adj Close,Volume or "
                "timestamp,open,high,low,close,adjusted_close,volume)"
            )
        frame = raw.rename(columns=layout)
        frame = frame[[c for c in RAW_COLUMNS if c in frame.columns]]
        frame.insert(len(frame.columns), ROW_COLUMN, frame.index + _FIRST_DATA_LINE)
        return within_window(frame, after, end)
