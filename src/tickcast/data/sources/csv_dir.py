"""A directory of one CSV file per ticker, in Yahoo or Alpha Vantage column layout, any row order,
and an optional file of splits and dividends (by default `<directory>/actions/actions.csv`)."""

from __future__ import annotations

import csv
import functools
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from tickcast.data.actions import ACTION_COLUMNS, empty_actions
from tickcast.data.sources.base import (
    RAW_COLUMNS,
    ROW_COLUMN,
    YAHOO_COLUMNS,
    PriceSource,
    SourceError,
    parse_dates,
    window_mask,
)
from tickcast.tickers import ticker_symbol

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
# Column types of every layout: dates as text, values as numbers when the whole file allows it.
_TYPED_COLUMNS = {
    name: "str" if column == "trade_date" else "float64"
    for layout in _LAYOUTS.values()
    for name, column in layout.items()
}
# Data rows start on line 2 of the file, after the header.
_FIRST_DATA_LINE = 2
# Files that document a data folder: skipped without a word.
_DOCUMENTATION = ("LICENSE", "LICENCE", "README", "NOTICE", "COPYING")
# Where the actions file is when none is configured, under the directory.
DEFAULT_ACTIONS_FILE = Path("actions") / "actions.csv"
# The actions file's columns (the value's meaning: see tickcast.data.actions).
_ACTION_HEADER = ["ticker", "date", "kind", "value"]


class CsvDirectorySource(PriceSource):
    """Reads `<directory>/<TICKER>.csv`; the file stem (any case) is the ticker.

    Every other entry of the folder is listed in `notes()` with the reason it was left out,
    except documentation files (LICENSE*, README*, …). Two files naming the same ticker in
    different case make that ticker fail, naming both files.
    """

    name = "csv"

    def __init__(
        self,
        directory: Path,
        timezone: str,
        actions_path: Path | None = None,
        as_traded: bool = False,
    ) -> None:
        if not directory.is_dir():
            problem = "is not a directory" if directory.exists() else "does not exist"
            raise SourceError(f"CSV source directory {directory} {problem}")
        self.directory = directory
        self.timezone = timezone
        self.as_traded = as_traded
        self.actions_path = actions_path or directory / DEFAULT_ACTIONS_FILE
        if actions_path is not None and not actions_path.is_file():
            problem = "is not a file" if actions_path.exists() else "does not exist"
            raise SourceError(f"actions file {actions_path} (data.csv.actions_path) {problem}")
        self._files: dict[str, list[Path]] = {}
        self._notes: list[str] = []
        for path in sorted(directory.iterdir()):
            reason = self._add(path)
            if reason:
                self._notes.append(f"{path.name}: ignored, {reason}")

    def _add(self, path: Path) -> str | None:
        """File `path` under its ticker; the reason it is left out otherwise (None: quietly)."""
        if path.name.upper().startswith(_DOCUMENTATION) or _same(path, self.actions_path):
            return None
        if path.is_dir() and _same(path, self.actions_path.parent):
            return None
        if path.suffix.lower() != ".csv":
            return "a folder" if path.is_dir() else "not a .csv file"
        if not path.is_file():
            return "not a regular file"
        if path.is_symlink() and not _inside(path, self.directory):
            return "a link to a file outside the folder (copy the file in to ingest it)"
        try:
            ticker = ticker_symbol(path.stem)
        except ValueError as error:
            return f"its name is no ticker: {error}"
        self._files.setdefault(ticker, []).append(path)
        return None

    def available_tickers(self) -> list[str]:
        return sorted(self._files)

    def notes(self) -> list[str]:
        return list(self._notes)

    def fetch(self, ticker: str, after: date | None, end: date | None) -> pd.DataFrame:
        paths = self._files.get(ticker.upper())
        if paths is None:
            raise SourceError(f"unknown ticker: no file {ticker}.csv in {self.directory}")
        if len(paths) > 1:
            names = " and ".join(path.name for path in paths)
            raise SourceError(f"{names} both name ticker {ticker.upper()}: keep one of them")
        path = paths[0]
        stat = path.stat()
        frame, dates = _rows(path, stat.st_ino, stat.st_mtime_ns, stat.st_size, self.timezone)
        if after is None and end is None:
            return frame
        return frame[window_mask(dates, after, end)]

    def fetch_actions(self, ticker: str, after: date | None, end: date | None) -> pd.DataFrame:
        """The ticker's rows of the actions file up to `end`, with their file lines: all of them
        (a line added for an old date is found by the next incremental ingest)."""
        if not self.actions_path.is_file():
            return empty_actions()
        stat = self.actions_path.stat()
        actions = _actions(self.actions_path, stat.st_ino, stat.st_mtime_ns, stat.st_size)
        rows = actions[actions["ticker"] == ticker.upper()].drop(columns="ticker")
        dates = parse_dates(rows["ex_date"], self.timezone)
        return rows[window_mask(dates, None, end)].reset_index(drop=True)


def _inside(path: Path, directory: Path) -> bool:
    """Whether `path`, links followed, lies in `directory`."""
    try:
        return path.resolve().is_relative_to(directory.resolve())
    except OSError:
        return False


def _same(path: Path, other: Path) -> bool:
    try:
        return path.resolve() == other.resolve()
    except OSError:
        return False


@functools.lru_cache(maxsize=8)
def _actions(path: Path, inode: int, modified_ns: int, size: int) -> pd.DataFrame:
    """The actions file's rows (ticker upper-cased, date as ex_date, their file line as row),
    kept per file version like the price files."""
    try:
        raw = pd.read_csv(path, dtype=str, skipinitialspace=True, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=["ticker", *ACTION_COLUMNS, ROW_COLUMN])
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise SourceError(f"actions file {path} is not a readable CSV file: {error}") from None
    header = [str(column).strip().lower() for column in raw.columns]
    missing = [column for column in _ACTION_HEADER if column not in header]
    if missing:
        raise SourceError(
            f"actions file {path}: header {list(raw.columns)} lacks {missing} "
            f"(expected {','.join(_ACTION_HEADER)})"
        )
    raw.columns = header
    frame = raw[_ACTION_HEADER].rename(columns={"date": "ex_date"})
    frame[ROW_COLUMN] = frame.index + _FIRST_DATA_LINE
    frame["ticker"] = frame["ticker"].astype("string").str.strip().str.upper()
    return frame


@functools.lru_cache(maxsize=1024)
def _rows(
    path: Path, inode: int, modified_ns: int, size: int, timezone: str
) -> tuple[pd.DataFrame, pd.Series]:
    """The file's rows in the canonical columns (+ their file line) and their parsed session
    dates. Kept per file version (inode, modification time, size): a process that ingests day
    after day (a backtest) reads and parses each file once. Callers never modify them."""
    raw = _read(path)
    layout = next((_LAYOUTS[key] for key in _LAYOUTS if key in raw.columns), None)
    if layout is None:
        raise SourceError(
            f"{path.name}: header {list(raw.columns)} has neither a 'Date' nor a 'timestamp' "
            "column (expected Date,Open,High,Low,Close,Adj Close,Volume or "
            "timestamp,open,high,low,close,adjusted_close,volume)"
        )
    frame = raw.rename(columns=layout)
    frame = frame[[c for c in RAW_COLUMNS if c in frame.columns]]
    frame.insert(len(frame.columns), ROW_COLUMN, _record_lines(path, len(frame)))
    frame = frame[frame[[c for c in RAW_COLUMNS if c in frame.columns]].notna().any(axis=1)]
    return frame, parse_dates(frame["trade_date"], timezone)


def _record_lines(path: Path, records: int) -> np.ndarray:
    """The file line each data record starts on: record i on line i + 2, unless a quoted cell
    holds a line break (then counted by the csv module, only for such a file)."""
    lines = np.arange(records) + _FIRST_DATA_LINE
    with path.open("rb") as file:
        if not any(b'"' in chunk for chunk in iter(lambda: file.read(1 << 20), b"")):
            return lines
    with path.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        next(reader, None)  # the header
        starts, previous = [], reader.line_num
        for _ in reader:
            starts.append(previous + 1)
            previous = reader.line_num
    return np.asarray(starts[:records], dtype=np.int64) if len(starts) >= records else lines


def _read(path: Path) -> pd.DataFrame:
    """The file's cells: value columns as numbers when every one of them is a finite number (the
    fast common case), otherwise every cell as text, for validation to name the bad ones."""
    try:
        numbers = _read_cells(path, _TYPED_COLUMNS)
        values = numbers.select_dtypes("number").to_numpy(dtype=float)
        if np.isfinite(values[~np.isnan(values)]).all():
            return numbers
    except Exception:  # any trouble: read it again as text, which says what it is
        pass
    try:
        return _read_cells(path, str)
    except pd.errors.EmptyDataError:
        raise SourceError(f"{path.name} is empty (no header, no rows)") from None
    except pd.errors.ParserWarning:
        raise SourceError(
            f"{path.name} is not a readable CSV file: its first row has more fields than the header"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise SourceError(f"{path.name} is not a readable CSV file: {error}") from None


def _read_cells(path: Path, dtype: type[str] | dict[str, str]) -> pd.DataFrame:
    with warnings.catch_warnings():
        # A first row longer than the header would silently become the index (or with
        # index_col=False lose its extra fields): refuse it like any other long row.
        warnings.simplefilter("error", pd.errors.ParserWarning)
        # Blank lines stay (as empty rows, dropped below): row numbers are file lines.
        return pd.read_csv(
            path,
            dtype=dtype,
            index_col=False,
            skipinitialspace=True,
            skip_blank_lines=False,
            encoding="utf-8-sig",
        )
