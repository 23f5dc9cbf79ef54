"""The bad-input catalogue: one CSV per case, with the documented outcome of ingesting it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tickcast.data.calendar import trading_calendar

YAHOO_HEADER = "Date,Open,High,Low,Close,Adj Close,Volume"
ALPHA_HEADER = "timestamp,open,high,low,close,adjusted_close,volume"
ROWS = 20
SESSIONS = trading_calendar().sessions_between(date(2017, 1, 3), date(2017, 3, 31))[:ROWS]


@dataclass(frozen=True)
class Case:
    ticker: str
    content: str | None  # None: no file at all
    status: str  # rejected | failed | stored
    rule: str  # text the message must contain
    line: int | None  # file line the message must name
    stored_rows: int = 0


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
        ),
        Case(
            "ALPHALAYOUT", _file(good_lines(), ALPHA_HEADER), "stored", "", None, stored_rows=ROWS
        ),
    ]


def write_catalogue(directory: Path) -> list[Case]:
    directory.mkdir(parents=True, exist_ok=True)
    catalogue = cases()
    for case in catalogue:
        if case.content is not None:
            (directory / f"{case.ticker}.csv").write_text(case.content)
    return catalogue
