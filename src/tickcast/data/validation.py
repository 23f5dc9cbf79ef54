"""Validation of raw prices: parse, then check the rules with a pandera schema.

Many tickers are validated in one pass (the rules are column-vectorised, so a batch costs about
what one ticker does); a ticker with any error is rejected whole (nothing of it is stored), the
others are unaffected, and every error names the ticker, the source row and the rule. Yahoo's
placeholder rows (a date with every value null) are dropped with a warning instead. Values must
be finite and plausible: prices positive and below a ceiling, volumes whole, non-negative and
within PostgreSQL's bigint; a date's time of day (or zone) does not make another session.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping
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
# Rows named per duplicated session.
_SHOWN = 10
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


@dataclass
class BatchValidation:
    """Several tickers validated together: the stored-ready rows of the accepted ones (ordered
    by ticker, then date) and each ticker's result."""

    frame: pd.DataFrame
    results: dict[str, ValidationResult]


def validate_prices(
    ticker: str,
    raw: pd.DataFrame,
    calendar: TradingCalendar,
    today: date,
    tolerance: float = 1e-6,
    max_price: float = 1e7,
) -> ValidationResult:
    """Parse and check one ticker's rows; the result holds either clean rows or the reasons."""
    return validate_batch({ticker: raw}, calendar, today, tolerance, max_price).results[ticker]


def validate_batch(
    raws: Mapping[str, pd.DataFrame],
    calendar: TradingCalendar,
    today: date,
    tolerance: float = 1e-6,
    max_price: float = 1e7,
) -> BatchValidation:
    """Parse and check many tickers' rows in one pass (one schema validation for the batch); a
    ticker with any error is rejected whole, the others are unaffected by it."""
    empty = _empty_frame()
    results = {t: ValidationResult(t, empty.copy(), rows_in=len(raw)) for t, raw in raws.items()}
    raw, tickers, rows = _combined(raws, results)
    if raw.empty:
        return BatchValidation(_empty_frame(), results)

    placeholder = raw[VALUE_FIELDS].isna().all(axis=1) & raw["trade_date"].notna()
    for ticker, row in zip(tickers[placeholder], rows[placeholder], strict=True):
        results[ticker].issues.append(
            Issue(
                ticker, int(row), "placeholder row", "every value is null; row dropped", "warning"
            )
        )
    raw, tickers, rows = raw[~placeholder], tickers[~placeholder], rows[~placeholder]

    parsed = _parse(raw, tickers, rows, calendar.timezone, results)
    parsed = parsed[~tickers.isin(_rejected(results))]
    for issue in duplicate_session_issues(parsed, rows):
        results[issue.ticker].issues.append(issue)
    parsed = parsed[~parsed["ticker"].isin(_rejected(results))]
    schema = _schema(calendar, today, tolerance, max_price)
    try:
        schema.validate(parsed, lazy=True)
    except pa.errors.SchemaErrors as failure:
        for issue in _schema_issues(failure.failure_cases, parsed, rows):
            results[issue.ticker].issues.append(issue)

    clean = parsed[~parsed["ticker"].isin(_rejected(results))]
    clean = clean.astype({"volume": np.int64}).sort_values(["ticker", "trade_date"], kind="stable")
    clean = clean.reset_index(drop=True)[STORED_COLUMNS]
    names = clean["ticker"].to_numpy()
    bounds: list[int] = (
        np.flatnonzero(np.r_[True, names[1:] != names[:-1], True]).tolist() if len(names) else []
    )
    for start, end in itertools.pairwise(bounds):
        results[str(names[start])].frame = clean.iloc[start:end].reset_index(drop=True)
    return BatchValidation(clean, results)


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in STORED_COLUMNS})


def _rejected(results: dict[str, ValidationResult]) -> list[str]:
    return [ticker for ticker, result in results.items() if result.rejected]


def _combined(
    raws: Mapping[str, pd.DataFrame], results: dict[str, ValidationResult]
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The raw rows of every ticker with the required columns, one frame, with each row's ticker
    and source row; a ticker missing a column gets its issue instead."""
    frames, names, rows = [], [], []
    for ticker, raw in raws.items():
        missing = [c for c in RAW_COLUMNS if c not in raw.columns]
        if missing:
            results[ticker].issues.append(
                Issue(ticker, None, "required columns", f"missing {missing}")
            )
            continue
        frames.append(raw[RAW_COLUMNS])
        names.append(np.full(len(raw), ticker, dtype=object))
        source_rows = raw[ROW_COLUMN] if ROW_COLUMN in raw.columns else raw.index + 1
        rows.append(np.asarray(source_rows, dtype=np.int64))
    if not frames:
        empty = pd.Series(dtype=object)
        return pd.DataFrame(columns=RAW_COLUMNS), empty, empty
    combined = pd.concat(frames, ignore_index=True)
    return (
        combined,
        pd.Series(np.concatenate(names), index=combined.index),
        pd.Series(np.concatenate(rows), index=combined.index),
    )


def _parse(
    raw: pd.DataFrame,
    tickers: pd.Series,
    rows: pd.Series,
    timezone: str,
    results: dict[str, ValidationResult],
) -> pd.DataFrame:
    """Typed columns (ticker, trade_date, values); each value that is no date or no finite
    number becomes an issue of its ticker."""
    parsed = pd.DataFrame({"ticker": tickers}, index=raw.index)
    dates = raw["trade_date"]
    parsed["trade_date"] = parse_dates(dates, timezone)
    for index in parsed.index[parsed["trade_date"].isna()]:
        value = dates[index]
        detail = "missing date" if pd.isna(value) else f"cannot parse date {value!r}"
        _report(results, Issue(tickers[index], int(rows[index]), "date format", detail))
    for column in VALUE_FIELDS:
        values = raw[column]
        numbers = (
            values.astype("float64")
            if pd.api.types.is_float_dtype(values)
            else pd.to_numeric(values, errors="coerce").astype("float64")
        )
        for index in numbers.index[numbers.isna() & values.notna()]:
            detail = f"{column} {values[index]!r} is not a number"
            _report(results, Issue(tickers[index], int(rows[index]), "numeric", detail))
        for index in numbers.index[np.isinf(numbers.to_numpy())]:
            detail = f"{column} {values[index]!r} is not a finite number"
            _report(results, Issue(tickers[index], int(rows[index]), "finite", detail))
        parsed[column] = numbers
    return parsed


def _report(results: dict[str, ValidationResult], issue: Issue) -> None:
    results[issue.ticker].issues.append(issue)


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
                        lambda d: d >= pd.Timestamp(calendar.first),
                        name=f"on or after calendar.first_session ({calendar.first})",
                    ),
                    Check(  # an earlier date is named by the rule above
                        lambda d: pd.Series(
                            calendar.sessions_mask(d) | (d < pd.Timestamp(calendar.first)),
                            index=d.index,
                        ),
                        name=f"{calendar.exchange} trading day",
                    ),
                ],
                nullable=False,
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


def _schema_issues(cases: pd.DataFrame, parsed: pd.DataFrame, rows: pd.Series) -> list[Issue]:
    """One issue per (ticker, row, rule), worded from pandera's failure cases."""
    issues: dict[tuple[object, object, str, str], Issue] = {}
    for case in cases.to_dict("records"):
        index, check, column = case["index"], str(case["check"]), str(case["column"])
        if index is None or pd.isna(index):  # a rule on a whole column: every ticker in it
            tickers, row = parsed["ticker"].unique().tolist(), None
        else:
            tickers, row = [parsed.at[index, "ticker"]], int(rows[index])
        if case["schema_context"] == "DataFrameSchema":
            values = parsed.loc[index, ["open", "high", "low", "close"]] if row is not None else {}
            detail = ", ".join(f"{k}={v:g}" for k, v in dict(values).items())
            column = ""
        elif check == "not_nullable":
            check, detail = "not null", f"{column} is missing"
        else:
            value = case["failure_case"]
            detail = _day(value) if column == "trade_date" else f"{column}={value}"
        for ticker in tickers:
            issues.setdefault((ticker, row, check, column), Issue(ticker, row, check, detail))
    return sorted(issues.values(), key=lambda issue: (issue.row is None, issue.row or 0))


def duplicate_session_issues(parsed: pd.DataFrame, rows: pd.Series) -> list[Issue]:
    """One issue per session that appears on several rows of a ticker, naming the rows: the
    first MAX_ISSUES_LISTED sessions of each ticker, then one issue counting the rest. Linear in
    the rows (sorts and group sizes; no per-session scan of the batch)."""
    dated = parsed["trade_date"].notna()
    doubled = parsed.duplicated(["ticker", "trade_date"], keep=False) & dated
    if not doubled.any():
        return []
    found = pd.DataFrame(
        {"ticker": parsed["ticker"][doubled], "day": parsed["trade_date"][doubled]}
    ).assign(row=rows.loc[doubled.index[doubled]].to_numpy())
    found = found.sort_values(["ticker", "row"], kind="stable")
    sessions = found.drop_duplicates(["ticker", "day"])  # in the order they first appear
    rank = sessions.groupby("ticker", sort=False).cumcount()
    shown = sessions[rank < MAX_ISSUES_LISTED][["ticker", "day"]]
    lines = found.merge(shown, on=["ticker", "day"]).groupby(["ticker", "day"], sort=False)["row"]
    issues = []
    for (ticker, day), numbers in lines:  # an issue on each of the session's (first) rows
        detail = (
            f"session {_day(day)} appears on rows {_listed(numbers.tolist())} (a time of day is "
            "no new session)"
        )
        issues += [
            Issue(str(ticker), int(line), "unique date", detail) for line in numbers.iloc[:_SHOWN]
        ]
    for ticker, count in sessions.groupby("ticker", sort=False).size().items():
        if count > MAX_ISSUES_LISTED:
            issues.append(
                Issue(
                    str(ticker),
                    None,
                    "unique date",
                    f"{count - MAX_ISSUES_LISTED} more sessions appear on several rows",
                )
            )
    return issues


def _listed(lines: list[int], most: int = _SHOWN) -> str:
    shown = ", ".join(str(line) for line in lines[:most])
    return shown if len(lines) <= most else f"{shown} and {len(lines) - most} more"


def _day(value: Any) -> str:
    return str(value) if pd.isna(value) else str(pd.Timestamp(value).date())
