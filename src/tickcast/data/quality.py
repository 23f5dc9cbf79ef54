"""The daily run's check of stored prices: is every ticker present, fresh, gap-free and sane?

Ingest already refuses malformed rows (and the table's constraints refuse non-positive prices),
so this looks at what a day's forecasts will be built from: the last `lookback_sessions` up to the
run date. A ticker that is missing, stale or full of holes is quarantined, and so is one with an
outlier return that no stored split or dividend explains and nobody accepted; explained outliers
are listed. Too few healthy tickers fail the run.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tickcast.config import Settings
from tickcast.data.calendar import configured_calendar
from tickcast.data.jumps import Quarantine, quarantined_tickers
from tickcast.data.universe import TODAYS_TICKERS, stored_universe, universe_label
from tickcast.db.connection import open_connection
from tickcast.db.prices import last_stored_dates, load_prices, prices_version
from tickcast.db.revisions import PriceRevision, revisions_between

# Outliers listed per ticker in the report before the rest are counted.
MAX_OUTLIERS_LISTED = 5
# Reports of this process, newest last, for the same prices and rules (the policies of a
# backtest check the same stored data each session): the prices' version is in the key.
_CHECKED: OrderedDict[tuple[object, ...], QualityReport] = OrderedDict()
_CHECKED_KEPT = 4
_CHECKED_LOCK = threading.Lock()


class DataQualityError(RuntimeError):
    """Too few tickers passed the stored-data check."""


class TickerQuality(BaseModel):
    ticker: str
    status: Literal["ok", "quarantined"]
    last_date: date | None
    sessions_behind: int
    missing_sessions: list[date]
    outliers: dict[date, float]  # session -> log return
    reasons: list[str]


class QualityReport(BaseModel):
    as_of: date
    universe: str = TODAYS_TICKERS
    window_start: date
    tickers: list[TickerQuality]
    min_healthy_fraction: float

    @property
    def healthy(self) -> list[str]:
        return [t.ticker for t in self.tickers if t.status == "ok"]

    @property
    def quarantined(self) -> list[TickerQuality]:
        return [t for t in self.tickers if t.status == "quarantined"]

    @property
    def passed(self) -> bool:
        return bool(self.tickers) and len(self.healthy) >= self.min_healthy_fraction * len(
            self.tickers
        )

    def counts(self) -> dict[str, int]:
        """What the KFP UI shows as Metrics."""
        return {
            "tickers": len(self.tickers),
            "healthy": len(self.healthy),
            "quarantined": len(self.quarantined),
            "stale": sum(t.sessions_behind > 0 for t in self.tickers),
            "missing_sessions": sum(len(t.missing_sessions) for t in self.tickers),
            "outliers": sum(len(t.outliers) for t in self.tickers),
        }

    def markdown(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        lines = [
            f"# Stored data as of {self.as_of}: {verdict}",
            "",
            f"{len(self.healthy)} of {len(self.tickers)} tickers healthy over the sessions "
            f"{self.window_start} to {self.as_of} (at least {self.min_healthy_fraction:.0%} needed).",
            f"Universe: {self.universe}.",
            "",
        ]
        flagged = [t for t in self.tickers if t.reasons]
        if flagged:
            lines += ["| ticker | status | last session | findings |", "| --- | --- | --- | --- |"]
            lines += [
                f"| {t.ticker} | {t.status} | {t.last_date or '-'} | {'; '.join(t.reasons)} |"
                for t in flagged
            ]
        else:
            lines.append("No findings.")
        return "\n".join(lines) + "\n"


def check_stored_prices(settings: Settings, as_of: date | None = None) -> QualityReport:
    """Check the configured tickers (every stored one when none are configured) up to `as_of`;
    the same check of unchanged prices is answered from this process's last reports."""
    rules = settings.validation
    calendar = configured_calendar(settings)
    as_of = calendar.session_on_or_before(as_of or calendar.latest_completed_session())
    window = calendar.sessions_ending(as_of, rules.lookback_sessions)
    start = calendar.previous_session(window[0])  # so the window's first return is defined
    # and the band's median of each session in the window
    read_from = calendar.sessions_ending(start, rules.band_sessions + 1)[0]
    with open_connection(settings) as conn:
        tickers = settings.tickers or sorted(last_stored_dates(conn, None))
        universe = stored_universe(conn)
        if universe is not None:  # a ticker that has left the universe is not stale
            tickers = [t for t in tickers if universe.member_on(t, as_of)]
        key = (
            settings.database.model_dump_json(),
            rules.model_dump_json(),
            settings.calendar.model_dump_json(),
            tuple(tickers),
            as_of,
            prices_version(conn),
        )
        with _CHECKED_LOCK:
            if (kept := _CHECKED.get(key)) is not None:
                return kept.model_copy(deep=True)
        prices = load_prices(conn, tickers, end=as_of, start=read_from)
        revisions = revisions_between(conn, tickers, window[0], as_of)
        jumps = _in_window(quarantined_tickers(conn, prices, rules), window[0])
    prices = prices[prices["trade_date"] >= start]
    by_ticker = dict(tuple(prices.groupby("ticker", sort=False)))
    checked = [
        _check_ticker(
            ticker,
            by_ticker.get(ticker),
            window,
            settings,
            revisions.get(ticker, []),
            jumps.get(ticker),
        )
        for ticker in tickers
    ]
    report = QualityReport(
        as_of=as_of,
        universe=universe_label(universe, as_of),
        window_start=window[0],
        tickers=checked,
        min_healthy_fraction=rules.min_healthy_fraction,
    )
    with _CHECKED_LOCK:
        _CHECKED[key] = report.model_copy(deep=True)
        while len(_CHECKED) > _CHECKED_KEPT:
            _CHECKED.popitem(last=False)
    return report


def require_healthy(report: QualityReport, strict: bool = False) -> None:
    """Raise DataQualityError naming the quarantined tickers when the report did not pass (when
    `strict`, when any ticker is quarantined)."""
    if report.passed and not (strict and report.quarantined):
        return
    if not report.tickers:
        raise DataQualityError(f"no stored prices to check as of {report.as_of}: run ingest first")
    listed = "; ".join(f"{t.ticker}: {', '.join(t.reasons)}" for t in report.quarantined)
    needed = (
        "all needed: --strict" if strict else f"at least {report.min_healthy_fraction:.0%} needed"
    )
    raise DataQualityError(
        f"stored data as of {report.as_of}: only {len(report.healthy)} of {len(report.tickers)} "
        f"tickers are healthy ({needed}); {listed}"
    )


def _in_window(found: dict[str, Quarantine], first: date) -> dict[str, Quarantine]:
    """The quarantines of `found` by their findings on `first` or later."""
    kept = {
        ticker: [f for f in quarantine.findings if f.trade_date >= first]
        for ticker, quarantine in found.items()
    }
    return {ticker: Quarantine(ticker, rows) for ticker, rows in kept.items() if rows}


def _check_ticker(
    ticker: str,
    rows: pd.DataFrame | None,
    window: list[date],
    settings: Settings,
    revisions: list[PriceRevision],
    quarantine: Quarantine | None,
) -> TickerQuality:
    rules = settings.validation
    if rows is None or rows.empty:
        return TickerQuality(
            ticker=ticker,
            status="quarantined",
            last_date=None,
            sessions_behind=len(window),
            missing_sessions=[],
            outliers={},
            reasons=[f"no stored prices in the last {len(window)} sessions"],
        )
    stored = set(rows["trade_date"])
    first, last = min(stored), max(stored)
    behind = sum(day > last for day in window)
    missing = [day for day in window if first <= day <= last and day not in stored]
    closes = rows["adj_close"].to_numpy()
    returns = np.log(closes[1:] / closes[:-1])
    dates = rows["trade_date"].to_numpy()[1:]
    jumps = np.abs(returns) > rules.outlier_log_return
    outliers = {day: float(value) for day, value in zip(dates[jumps], returns[jumps], strict=True)}

    reasons, quarantined = [], False
    if behind > rules.max_stale_sessions:
        quarantined = True
        reasons.append(f"stale: last session {last}, {behind} session(s) behind")
    if len(missing) > rules.max_missing_sessions:
        quarantined = True
        reasons.append(f"{len(missing)} missing sessions (first {missing[0]})")
    elif missing:
        reasons.append(f"{len(missing)} missing session(s): {', '.join(map(str, missing))}")
    if outliers:
        shown = list(outliers.items())[:MAX_OUTLIERS_LISTED]
        more = len(outliers) - len(shown)
        reasons.append(
            "outlier returns "
            + ", ".join(f"{day} {value:+.2f}" for day, value in shown)
            + (f" and {more} more" if more else "")
        )
    if quarantine is not None:
        quarantined = True
        reasons.append(quarantine.reason)
    reasons += [revision.describe() for revision in revisions]  # healed: nothing to quarantine
    return TickerQuality(
        ticker=ticker,
        status="quarantined" if quarantined else "ok",
        last_date=last,
        sessions_behind=behind,
        missing_sessions=missing,
        outliers=outliers,
        reasons=reasons,
    )
