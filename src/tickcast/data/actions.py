"""Corporate actions (splits and dividends): checked as they come from a source, and turned into
the factors that put as-traded prices on one basis.

Backward adjustment, as Yahoo and CRSP do it: every price before an ex-date is multiplied by
the action's factor, so the newest prices stay as traded and no action ever shows as a return.
A split of `value` new shares per old one has the factor 1 / value (and multiplies earlier
volumes by value); a dividend of `value` per share has 1 - value / (the close of the session
before the ex-date), so the adjusted return across it is the total return.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

ACTION_COLUMNS = ["ex_date", "kind", "value"]
ACTION_KINDS = ("split", "dividend")


class ActionError(ValueError):
    """An action that cannot be applied (the message names the ticker, date and problem)."""


@dataclass(frozen=True)
class Adjustment:
    """Per row of a ticker's as-traded prices: adjusted close and the split factor (shares today
    per share on that date)."""

    adj_close: np.ndarray
    split_factor: np.ndarray


def empty_actions() -> pd.DataFrame:
    """No action, in ACTION_COLUMNS (one shared frame: callers never modify it)."""
    return _EMPTY


_EMPTY = pd.DataFrame(
    {
        "ex_date": pd.Series(dtype="datetime64[ns]"),
        "kind": pd.Series(dtype=object),
        "value": pd.Series(dtype=float),
    }
)


def checked_actions(ticker: str, actions: pd.DataFrame, where: str) -> pd.DataFrame:
    """A source's actions for one ticker in canonical form (ex_date as a date, kind, value),
    sorted; ActionError naming `where` (a file line, a source) for a bad one."""
    if actions.empty:
        return empty_actions()
    missing = sorted(set(ACTION_COLUMNS) - set(actions.columns))
    if missing:
        raise ActionError(f"{ticker}: {where}: actions lack columns {missing}")
    rows = actions.reset_index(drop=True)
    dates = pd.to_datetime(rows["ex_date"], errors="coerce", format="mixed")
    values = pd.to_numeric(rows["value"], errors="coerce")
    kinds = rows["kind"].astype("string").str.strip().str.lower()
    place = rows["row"] if "row" in rows else pd.Series(range(1, len(rows) + 1))
    bad_value = values.isna() | ~np.isfinite(values.fillna(0)) | (values.fillna(0) <= 0)
    checks: list[tuple[pd.Series, str, str]] = [
        (dates.isna(), "ex_date", "is not a date"),
        (~kinds.isin(ACTION_KINDS).fillna(False), "kind", "is not split or dividend"),
        (
            bad_value,
            "value",
            "must be a positive number (a split: new shares per old one; a dividend: cash per "
            "share)",
        ),
    ]
    for failed, column, problem in checks:
        if failed.any():
            at = int(np.flatnonzero(failed.to_numpy())[0])
            name = "ex-date" if column == "ex_date" else column
            raise ActionError(
                f"{ticker}: {where} row {place.iloc[at]}: {name} {rows[column].iloc[at]!r} {problem}"
            )
    clean = pd.DataFrame(
        {"ex_date": dates.dt.normalize(), "kind": kinds.astype(object), "value": values}
    )
    doubled = clean.duplicated(["ex_date", "kind"], keep=False)
    if doubled.any():
        first = clean[doubled].iloc[0]
        raise ActionError(
            f"{ticker}: {where}: two {first['kind']}s on {first['ex_date']:%Y-%m-%d}: keep one"
        )
    return clean.sort_values(["ex_date", "kind"], kind="stable").reset_index(drop=True)


def adjust(
    ticker: str, trade_dates: np.ndarray, close: np.ndarray, actions: pd.DataFrame
) -> Adjustment:
    """Adjusted closes and split factors of one ticker's as-traded rows (dates ascending) under
    `actions`. A dividend's factor needs the close before its ex-date, so `close` must hold every
    row from the ticker's first one on (an action before the first row changes nothing)."""
    dates = np.asarray(trade_dates, dtype="datetime64[D]")
    ex_dates = actions["ex_date"].to_numpy(dtype="datetime64[D]")
    values = actions["value"].to_numpy(dtype=float)
    splits = actions["kind"].to_numpy() == "split"
    before = dates.searchsorted(ex_dates, side="left") - 1  # the row before each ex-date
    price = np.ones(len(actions))
    price[splits] = 1 / values[splits]
    for i in np.flatnonzero(~splits & (before >= 0)):
        previous = close[before[i]]
        if values[i] >= previous:
            raise ActionError(
                f"{ticker}: dividend {values[i]:g} on {ex_dates[i]} is not below the close "
                f"{previous:g} before it"
            )
        price[i] = 1 - values[i] / previous
    shares = np.where(splits, values, 1.0)
    # Each row takes the product over the actions after it: suffix products over ex-date order.
    order = np.argsort(ex_dates, kind="stable")
    price_after = np.append(np.cumprod(price[order][::-1])[::-1], 1.0)
    shares_after = np.append(np.cumprod(shares[order][::-1])[::-1], 1.0)
    first_after = ex_dates[order].searchsorted(dates, side="right")
    return Adjustment(close * price_after[first_after], shares_after[first_after])


def actions_changed(stored: pd.DataFrame | None, fetched: pd.DataFrame, whole: bool) -> bool:
    """Whether storing one ticker's `fetched` actions changes its `stored` ones; `whole`: the
    fetch was its complete history, so a stored action it lacks is gone."""
    mine, theirs = _by_key(fetched), _by_key(stored)
    if whole and theirs.keys() - mine.keys():
        return True
    return any(
        key not in theirs or not math.isclose(value, theirs[key], rel_tol=1e-9)
        for key, value in mine.items()
    )


def _by_key(actions: pd.DataFrame | None) -> dict[tuple[pd.Timestamp, str], float]:
    if actions is None or actions.empty:
        return {}
    keys = zip(actions["ex_date"], actions["kind"], strict=True)
    return dict(zip(keys, actions["value"].astype(float), strict=True))


def adjust_rows(
    frame: pd.DataFrame, actions_of: Mapping[str, pd.DataFrame]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Validated as-traded rows (ticker, trade_date, close, … sorted by ticker and date) with
    adj_close and split_factor computed from each ticker's actions, and the tickers whose actions
    cannot be applied (their rows left out) with the reason. Each ticker's rows must run without
    a gap from their first date to their last (a whole history, or new rows)."""
    dates = frame["trade_date"].to_numpy(dtype="datetime64[D]")
    close = frame["close"].to_numpy(dtype=float)
    adj_close, split_factor = close.copy(), np.ones(len(frame))
    keep = np.ones(len(frame), dtype=bool)
    failed: dict[str, str] = {}
    for ticker, rows in frame.groupby("ticker", sort=False).indices.items():
        actions = actions_of.get(str(ticker))
        if actions is None or actions.empty:
            continue
        later = actions[actions["ex_date"].to_numpy(dtype="datetime64[D]") > dates[rows[0]]]
        if later.empty:
            continue
        try:
            found = adjust(str(ticker), dates[rows], close[rows], later)
        except ActionError as error:
            failed[str(ticker)], keep[rows] = str(error), False
            continue
        adj_close[rows], split_factor[rows] = found.adj_close, found.split_factor
    adjusted = frame.assign(adj_close=adj_close, split_factor=split_factor)
    return adjusted[keep], failed
