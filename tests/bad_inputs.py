"""The bad-input catalogue: one CSV per case (or a file name that is no ticker), with the
documented outcome of ingesting it: status, the rule in the message, the file line it names and
exactly which rows are stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from tickcast.data.calendar import trading_calendar

YAHOO_HEADER = "Date,Open,High,Low,Close,Adj Close,Volume"
ALPHA_HEADER = "timestamp,open,high,low,close,adjusted_close,volume"
ROWS = 20
SESSIONS = trading_calendar().sessions_between(date(2017, 1, 3), date(2017, 3, 31))[:ROWS]


@dataclass(frozen=True)
class Case:
    ticker: str
    content: str | bytes | None  # None: no file at all
    status: str  # rejected | failed | stored | ignored (a file that names no ticker)
    rule: str  # text the message must contain
    line: int | None  # file line the message must name
    stored_rows: int = 0
    file: str | None = None  # the file's name when it is not <TICKER>.csv
    extra: tuple[tuple[str, str], ...] = ()  # other files the case needs (name, content)
    dropped: tuple[int, ...] = ()  # good_lines() indices not stored (the others are, in full)
    expected: tuple[str, ...] | None = None  # the stored lines when they are not good_lines()

    @property
    def file_name(self) -> str:
        return self.file or f"{self.ticker}.csv"

    def stored_lines(self) -> list[str]:
        """The good lines whose values must be in raw_prices for this ticker."""
        if self.status != "stored":
            return []
        if self.expected is not None:
            return list(self.expected)
        return [line for i, line in enumerate(good_lines()) if i not in self.dropped]


def good_lines() -> list[str]:
    lines = []
    for i, day in enumerate(SESSIONS):
        price = 100 + i
        lines.append(f"{day},{price},{price + 2},{price - 2},{price + 1},{price + 0.5},{1000 + i}")
    return lines


def _file(lines: list[str], header: str = YAHOO_HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def _replace(row: int, line: str) -> str:
    lines = good_lines()
    lines[row] = line
    return _file(lines)


def cases() -> list[Case]:
    """Data row i sits on file line i + 2 (line 1 is the header)."""
    d = SESSIONS
    duplicate = good_lines()
    duplicate[8] = duplicate[7]
    weekend = good_lines()
    weekend.insert(4, "2017-01-07,100,102,98,101,100.5,1000")
    placeholder = good_lines()
    placeholder[6] = f"{d[6]},null,null,null,null,null,null"
    return [
        Case(
            "NANCLOSE",
            _replace(5, f"{d[5]},100,102,98,,100.5,1000"),
            "rejected",
            "[not null] close",
            7,
        ),
        Case(
            "ZEROPRICE",
            _replace(3, f"{d[3]},0,102,98,101,100.5,1000"),
            "rejected",
            "[positive price] open",
            5,
        ),
        Case(
            "NEGPRICE",
            _replace(4, f"{d[4]},100,102,-98,101,100.5,1000"),
            "rejected",
            "[positive price] low",
            6,
        ),
        Case(
            "HIGHLOW", _replace(9, f"{d[9]},100,97,98,99,99,1000"), "rejected", "[high >= low]", 11
        ),
        Case("DUPDATE", _file(duplicate), "rejected", "[unique date]", 10),
        Case(
            "EPOCHDATE",
            _replace(0, "1970-01-02,100,102,98,101,100.5,1000"),
            "rejected",
            "[on or after calendar.first_session (1990-01-02)] 1970-01-02",
            2,
        ),
        Case(  # a quoted cell holding a line break: the lines after it still named right
            "QUOTEDBREAK",
            _file(
                [
                    *good_lines()[:1],
                    f'{d[1]},101,103,99,102,101.5,"1001\n"',
                    *good_lines()[2:9],
                    f"{d[9]},100,102,-98,101,100.5,1000",
                    *good_lines()[10:],
                ]
            ),
            "rejected",
            "[positive price] low",
            12,
        ),
        Case(
            "FUTUREDATE",
            _replace(19, "2099-01-05,100,102,98,101,100.5,1000"),
            "rejected",
            "[no future date",
            21,
        ),
        Case(
            "BADDATE",
            _replace(2, "2017-02-30,100,102,98,101,100.5,1000"),
            "rejected",
            "[date format] cannot parse date '2017-02-30'",
            4,
        ),
        Case(
            "MISSINGCOL",
            _file(
                [line.rsplit(",", 1)[0] for line in good_lines()], YAHOO_HEADER.rsplit(",", 1)[0]
            ),
            "rejected",
            "[required columns] missing ['volume']",
            None,
        ),
        Case("EMPTYFILE", "", "failed", "EMPTYFILE.csv is empty", None),
        Case("UNKNOWN", None, "failed", "unknown ticker: no file UNKNOWN.csv", None),
        Case(
            "WRONGTYPE",
            _replace(11, f"{d[11]},100,102,98,101,100.5,lots"),
            "rejected",
            "[numeric] volume 'lots' is not a number",
            13,
        ),
        Case("WEEKEND", _file(weekend), "rejected", "[XNYS trading day] 2017-01-07", 6),
        Case("HEADERONLY", _file([]), "rejected", "[non-empty]", None),
        Case("DESCENDING", _file(good_lines()[::-1]), "stored", "", None, stored_rows=ROWS),
        Case(
            "PLACEHOLDER",
            _file(placeholder),
            "stored",
            "[placeholder row]",
            8,
            stored_rows=ROWS - 1,
            dropped=(6,),
        ),
        Case(
            "ALPHALAYOUT", _file(good_lines(), ALPHA_HEADER), "stored", "", None, stored_rows=ROWS
        ),
        *hostile_cases(),
    ]


def hostile_cases() -> list[Case]:
    """Values, dates, encodings and file names a careless or hostile user produces."""
    d = SESSIONS
    time_duplicate = good_lines()
    time_duplicate[5] = f"{d[4]} 16:00:00,105,107,103,106,105.5,1005"
    zoned = [
        f"{day}T21:00:00Z,{line.split(',', 1)[1]}"
        for day, line in zip(d, good_lines(), strict=True)
    ]
    blank = good_lines()
    blank[3:3] = ["", "   "]  # two blank lines: data row 3 moves to file line 7
    blank_then_bad = list(blank)
    blank_then_bad[6] = f"{d[4]},100,102,98,101,100.5,-3"
    quoted = [",".join(f'"{v}"' for v in line.split(",")) for line in good_lines()]
    spaced = [", ".join(line.split(",")) for line in good_lines()]
    short = good_lines()
    short[10] = f"{d[10]},100,102,98"
    long = good_lines()
    long[10] += ",7"
    extra = [f"{line},0.0" for line in good_lines()]
    expensive = [
        f"{day},{300_000 + i},{300_002 + i},{299_998 + i},{300_001 + i},{300_000 + i},{7 + i}"
        for i, day in enumerate(d)
    ]
    return [
        Case(
            "INFPRICE",
            _replace(2, f"{d[2]},100,102,98,inf,100.5,1000"),
            "rejected",
            "[finite] close 'inf' is not a finite number",
            4,
        ),
        Case(
            "NEGINF",
            _replace(8, f"{d[8]},100,102,-Infinity,101,100.5,1000"),
            "rejected",
            "[finite] low '-Infinity'",
            10,
        ),
        Case(
            "HUGEPRICE",
            _replace(4, f"{d[4]},100,1e308,98,101,100.5,1000"),
            "rejected",
            "[price <= 1e+07] high=1e+308",
            6,
        ),
        Case(
            "HUGEVOLUME",
            _replace(6, f"{d[6]},100,102,98,101,100.5,1e19"),
            "rejected",
            "[volume < 2^63] volume=1e+19",
            8,
        ),
        Case(
            "NEGVOLUME",
            _replace(1, f"{d[1]},100,102,98,101,100.5,-5"),
            "rejected",
            "[volume >= 0] volume=-5",
            3,
        ),
        Case(
            "FRACVOLUME",
            _replace(12, f"{d[12]},100,102,98,101,100.5,10.5"),
            "rejected",
            "[whole volume] volume=10.5",
            14,
        ),
        Case(
            "NANTEXT",
            _replace(0, f"{d[0]},nan,102,98,101,100.5,1000"),
            "rejected",
            "[not null] open is missing",
            2,
        ),
        Case(
            "TIMEDUP",
            _file(time_duplicate),
            "rejected",
            f"[unique date] session {d[4]} appears on rows 6, 7",
            7,
        ),
        Case("ZONEDDATES", _file(zoned), "stored", "", None, stored_rows=ROWS),
        Case(
            "ZONEDWEEKEND",
            _replace(3, "2017-01-09T03:00:00+02:00,100,102,98,101,100.5,1000"),
            "rejected",
            "[XNYS trading day] 2017-01-08",
            5,
        ),
        Case(
            "TEXTDATE",
            _replace(7, "Jan 13 2017,100,102,98,101,100.5,1000"),
            "rejected",
            "[date format] cannot parse date 'Jan 13 2017'",
            9,
        ),
        Case(
            "NODATE",
            _replace(9, ",100,102,98,101,100.5,1000"),
            "rejected",
            "[date format] missing date",
            11,
        ),
        Case("BLANKLINES", _file(blank), "stored", "", None, stored_rows=ROWS),
        Case("BLANKTHENBAD", _file(blank_then_bad), "rejected", "[volume >= 0] volume=-3", 8),
        Case("BOM", "\ufeff" + _file(good_lines()), "stored", "", None, stored_rows=ROWS),
        Case(
            "CRLF", _file(good_lines()).replace("\n", "\r\n"), "stored", "", None, stored_rows=ROWS
        ),
        Case("QUOTED", _file(quoted), "stored", "", None, stored_rows=ROWS),
        Case("SPACED", _file(spaced), "stored", "", None, stored_rows=ROWS),
        Case(
            "EXTRACOLUMN",
            _file(extra, YAHOO_HEADER + ",Dividends"),
            "stored",
            "",
            None,
            stored_rows=ROWS,
        ),
        Case("SHORTROW", _file(short), "rejected", "[not null] close is missing", 12),
        Case("LONGROW", _file(long), "failed", "LONGROW.csv is not a readable CSV file", None),
        Case(
            "BINARY",
            b"\xff\xfe\x00garbage\x00\n\x00",
            "failed",
            "BINARY.csv is not a readable CSV file",
            None,
        ),
        Case(
            "NOHEADER",
            _file(good_lines())[len(YAHOO_HEADER) + 1 :],
            "failed",
            "has neither a 'Date' nor a 'timestamp' column",
            None,
        ),
        Case(
            "PRICEY",
            _file(expensive),
            "stored",
            "",
            None,
            stored_rows=ROWS,
            expected=tuple(expensive),
        ),
        Case("BRK-B", _file(good_lines()), "stored", "", None, stored_rows=ROWS),
        Case("^GSPC", _file(good_lines()), "stored", "", None, stored_rows=ROWS),
        Case("EURUSD=X", _file(good_lines()), "stored", "", None, stored_rows=ROWS),
        Case("BF.B", _file(good_lines()), "stored", "", None, stored_rows=ROWS, file="bf.b.csv"),
        Case(
            "DUP",
            _file(good_lines()),
            "failed",
            "DUP.csv and dup.csv both name ticker DUP",
            None,
            extra=(("dup.csv", _file(good_lines())),),
        ),
        Case(
            "BAD NAME",
            _file(good_lines()),
            "ignored",
            "BAD NAME.csv: ignored, its name is no ticker",
            None,
        ),
        Case(
            "A&B", _file(good_lines()), "ignored", "A&B.csv: ignored, its name is no ticker", None
        ),
        Case(
            ".HIDDEN",
            _file(good_lines()),
            "ignored",
            ".HIDDEN.csv: ignored, its name is no ticker",
            None,
        ),
        Case(
            "QUO'TE",
            _file(good_lines()),
            "ignored",
            "QUO'TE.csv: ignored, its name is no ticker",
            None,
        ),
        Case(
            "NOTES",
            "prices for 2017\n",
            "ignored",
            "NOTES.txt: ignored, not a .csv file",
            None,
            file="NOTES.txt",
        ),
        Case("ARCHIVE", None, "ignored", "ARCHIVE: ignored, a folder", None, file="ARCHIVE"),
        Case(  # a link to a file outside the folder is never read (its lines never echoed)
            "OUTSIDE",
            None,
            "ignored",
            "OUTSIDE.csv: ignored, a link to a file outside the folder",
            None,
        ),
    ]


def stored_rows_of(prices: pd.DataFrame, ticker: str) -> list[str]:
    """A ticker's stored rows (from load_prices) in good_lines() form, for exact comparison."""
    rows = prices[prices["ticker"] == ticker]
    return [
        f"{r.trade_date},{r.open:g},{r.high:g},{r.low:g},{r.close:g},{r.adj_close:g},{r.volume}"
        for r in rows.itertuples()
    ]


def write_case(case: Case, directory: Path) -> None:
    """The case's files in `directory` (a folder for ARCHIVE, nothing for UNKNOWN)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / case.file_name
    if isinstance(case.content, bytes):
        path.write_bytes(case.content)
    elif case.content is not None:
        path.write_text(case.content, newline="")
    elif case.ticker == "ARCHIVE":
        (path / "old").mkdir(parents=True, exist_ok=True)
    elif case.ticker == "OUTSIDE":
        secret = directory.parent / f"{directory.name}-secret.txt"
        secret.write_text("password=hunter2\n")
        path.unlink(missing_ok=True)
        path.symlink_to(secret)
    for name, content in case.extra:
        (directory / name).write_text(content)


def write_catalogue(directory: Path) -> list[Case]:
    catalogue = cases()
    for case in catalogue:
        write_case(case, directory)
    (directory / "LICENSE").write_text("documentation: skipped without a word\n")
    (directory / "README.md").write_text("# documentation: skipped without a word\n")
    return catalogue
