"""Validation of one ticker's raw prices: parse, then check the rules with a pandera schema.

A ticker with any error is rejected whole (nothing of it is stored) and every error names the
ticker, the source row and the rule. Yahoo's placeholder rows (a date with every value null) are
dropped with a warning instead. Values must be finite and plausible: prices positive and below a
ceiling, volumes whole, non-negative and within PostgreSQL's bigint; a date's time of day (or
zone) does not make another session.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from tickcast.data.calendar import TradingCalendar
from tickcast.data.sources.base import RAW_COLUMNS, ROW_COLUMN, parse_dates

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pandera's import-time notices about its pandas entry point
    import pandera.pandas as pa
    from pandera import Check, Column

PRICE_FIELDS = ["open", "high", "low", "close", "adj_close"]
VALUE_FIELDS = [*PRICE_FIELDS, "volume"]
STORED_COLUMNS = ["ticker", "trade_date", *VALUE_FIELDS]
# Issues listed per ticker before the rest are summarised by a count.
MAX_ISSUES_LISTED = 20
# raw_prices.volume is a bigint: a volume must stay below 2**63.
VOLUME_LIMIT = 2.0**63


@dataclass(frozen=True)
class Issue:
    """One broken rule: where (ticker, source row) and what."""

    ticker: str
    row: int | None
    rule: str
    detail: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.ticker} row {self.row}" if self.row is not None else self.ticker
        return f"{where}: [{self.rule}] {self.detail}"


@dataclass
class ValidationResult:
    ticker: str
    frame: pd.DataFrame  # typed, date-ordered rows ready to store; empty when rejected
    issues: list[Issue] = field(default_factory=list)
    rows_in: int = 0

    @property
    def errors(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def rejected(self) -> bool:
        return bool(self.errors)


def validate_prices(
    ticker: str,
    raw: pd.DataFrame,
    calendar: TradingCalendar,
    today: date,
    tolerance: float = 1e-6,
    max_price: float = 1e7,
) -> ValidationResult:
    """Parse and check one ticker's rows; the result holds either clean rows or the reasons."""
    result = ValidationResult(ticker, _empty_frame(), rows_in=len(raw))
    missing = [c for c in RAW_COLUMNS if c not in raw.columns]
    if missing:
        result.issues.append(Issue(ticker, None, "required columns", f"missing {missing}"))
        return result
    rows = raw[ROW_COLUMN] if ROW_COLUMN in raw.columns else pd.Series(raw.index + 1, raw.index)

    placeholder = raw[VALUE_FIELDS].isna().all(axis=1) & raw["trade_date"].notna()
    for row in rows[placeholder]:
        result.issues.append(
            Issue(
                ticker, int(row), "placeholder row", "every value is null; row dropped", "warning"
            )
        )
    raw, rows = raw[~placeholder], rows[~placeholder]
    if raw.empty:
        return result

    parsed, parse_issues = _parse(ticker, raw, rows, calendar.timezone)
    result.issues.extend(parse_issues)
    if parse_issues:
        return result

    schema = _schema(calendar, today, tolerance, max_price)
    try:
        schema.validate(parsed, lazy=True)
    except pa.errors.SchemaErrors as failure:
        result.issues.extend(_schema_issues(ticker, failure.failure_cases, parsed, rows))
        return result

    parsed["volume"] = parsed["volume"].astype(np.int64)
    parsed.insert(0, "ticker", ticker)
    result.frame = parsed.sort_values("trade_date").reset_index(drop=True)[STORED_COLUMNS]
    return result


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in STORED_COLUMNS})


def _parse(
    ticker: str, raw: pd.DataFrame, rows: pd.Series, timezone: str
) -> tuple[pd.DataFrame, list[Issue]]:
    issues: list[Issue] = []
    parsed = pd.DataFrame(index=raw.index)
    dates = raw["trade_date"]
    parsed["trade_date"] = parse_dates(dates, timezone)
    for index in parsed.index[parsed["trade_date"].isna()]:
        value = dates[index]
        detail = "missing date" if pd.isna(value) else f"cannot parse date {value!r}"
        issues.append(Issue(ticker, int(rows[index]), "date format", detail))
    for column in VALUE_FIELDS:
        values = raw[column]
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        for index in numbers.index[numbers.isna() & values.notna()]:
            issues.append(
                Issue(
                    ticker,
                    int(rows[index]),
                    "numeric",
                    f"{column} {values[index]!r} is not a number",
                )
            )
        for index in numbers.index[np.isinf(numbers.to_numpy())]:
            detail = f"{column} {values[index]!r} is not a finite number"
            issues.append(Issue(ticker, int(rows[index]), "finite", detail))
        parsed[column] = numbers
    return parsed, issues


def _schema(
    calendar: TradingCalendar, today: date, tolerance: float, max_price: float
) -> pa.DataFrameSchema:
    """The price rules; each check's name is the rule reported to the user."""
    positive = Check(lambda s: s > 0, name="positive price")
    plausible = Check(lambda s: s <= max_price, name=f"price <= {max_price:g}")
    return pa.DataFrameSchema(
        {
            "trade_date": Column(
                "datetime64[ns]",
                [
                    Check(
                        lambda d: d <= pd.Timestamp(today), name=f"no future date (today {today})"
                    ),
                    Check(
                        lambda d: pd.Series(calendar.sessions_mask(d), index=d.index),
                        name=f"{calendar.exchange} trading day",
                    ),
                ],
                nullable=False,
                unique=True,
            ),
            **{name: Column(float, [positive, plausible], nullable=False) for name in PRICE_FIELDS},
            "volume": Column(
                float,
                [
                    Check(lambda v: v >= 0, name="volume >= 0"),
                    Check(lambda v: v == np.floor(v), name="whole volume"),
                    Check(lambda v: v < VOLUME_LIMIT, name="volume < 2^63"),
                ],
                nullable=False,
            ),
        },
        checks=[
            Check(
                lambda f: f["high"] >= f[["open", "close"]].max(axis=1) * (1 - tolerance),
                name="high >= max(open, close)",
            ),
            Check(
                lambda f: f["low"] <= f[["open", "close"]].min(axis=1) * (1 + tolerance),
                name="low <= min(open, close)",
            ),
            Check(lambda f: f["high"] >= f["low"], name="high >= low"),
        ],
    )


def _schema_issues(
    ticker: str, cases: pd.DataFrame, parsed: pd.DataFrame, rows: pd.Series
) -> list[Issue]:
    """One issue per (row, rule), worded from pandera's failure cases."""
    issues: dict[tuple[object, str, str], Issue] = {}
    for case in cases.to_dict("records"):
        index, check, column = case["index"], str(case["check"]), str(case["column"])
        row = None if index is None or pd.isna(index) else int(rows[index])
        if case["schema_context"] == "DataFrameSchema":
            values = parsed.loc[index, ["open", "high", "low", "close"]] if row is not None else {}
            detail = ", ".join(f"{k}={v:g}" for k, v in dict(values).items())
            column = ""
        elif check == "field_uniqueness":
            day = pd.Timestamp(case["failure_case"])
            lines = ", ".join(str(rows[i]) for i in parsed.index[parsed["trade_date"] == day])
            check, column = "unique date", ""
            detail = (
                f"session {_day(day)} appears on rows {lines} (a time of day is no new session)"
            )
        elif check == "not_nullable":
            check, detail = "not null", f"{column} is missing"
        else:
            value = case["failure_case"]
            detail = _day(value) if column == "trade_date" else f"{column}={value}"
        issues.setdefault((row, check, column), Issue(ticker, row, check, detail))
    return sorted(issues.values(), key=lambda issue: (issue.row is None, issue.row or 0))


def _day(value: Any) -> str:
    return str(value) if pd.isna(value) else str(pd.Timestamp(value).date())
