"""The ingest step: fetch only new rows per ticker, validate, and merge them in bulk.

One ingest runs at a time (a PostgreSQL advisory lock). Each batch of tickers is written in one
transaction, so a killed process leaves no partial batch; a ticker that fails to fetch or
validate is reported and skipped while the others land. Every run is recorded in ingest_runs.

Each incremental fetch also reads the ticker's newest stored sessions again
(`ingest.overlap_sessions`). A source that re-adjusts history (a split or a dividend re-writes
every earlier adjusted close) differs there: the ticker is then re-read whole and its stored
history replaced in one transaction, recorded in price_revisions, so the new rows never join
the old ones on another basis (which read as a crash on the split day).

Splits and dividends are stored with the prices (corporate_actions). For a source that gives
prices as traded, the adjusted close and volume are computed from them; a new or changed action
of a stored ticker re-reads it whole and re-adjusts its history in one transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import psycopg
from pydantic import BaseModel

from tickcast.config import Settings
from tickcast.data.actions import (
    ActionError,
    actions_changed,
    adjust_rows,
    checked_actions,
    empty_actions,
)
from tickcast.data.calendar import configured_calendar
from tickcast.data.sources import PriceSource, SourceError, build_source
from tickcast.data.validation import (
    MAX_ISSUES_LISTED,
    BatchValidation,
    ValidationResult,
    validate_batch,
)
from tickcast.db import ingest_runs
from tickcast.db.actions import load_actions, store_actions
from tickcast.db.connection import Connection, open_connection
from tickcast.db.migrate import ensure_schema
from tickcast.db.prices import last_stored_dates, newest_closes, upsert_prices
from tickcast.db.revisions import how_it_moved, record_revision
from tickcast.text import clipped

log = logging.getLogger(__name__)
_LOCK_POLL_SECONDS = 0.5

TickerStatus = Literal["stored", "unchanged", "rejected", "failed"]


class IngestLockedError(RuntimeError):
    """Another ingest holds the lock."""


class TickerOutcome(BaseModel):
    """What happened to one ticker in one run."""

    ticker: str
    status: TickerStatus = "unchanged"
    rows_fetched: int = 0
    rows_new: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    first_date: date | None = None
    last_date: date | None = None
    # The source re-wrote the stored history: new / stored adjusted close when one factor moved
    # it all (a split, a dividend), None for another revision; the ticker was re-read whole.
    rebased: bool = False
    rebase_ratio: float | None = None
    # New or changed splits or dividends re-adjusted the stored history of an as-traded source.
    readjusted: bool = False
    messages: list[str] = []


class IngestResult(BaseModel):
    """The step's serialisable result (also recorded in ingest_runs)."""

    run_id: int
    source: str
    status: Literal["succeeded", "partial", "failed"]
    rows_new: int
    rows_updated: int
    rows_rejected: int
    seconds: float
    tickers: list[TickerOutcome]
    notes: list[str] = []  # what the source left out and why (files that are no ticker)

    @property
    def problem_tickers(self) -> list[TickerOutcome]:
        return [t for t in self.tickers if t.status in ("rejected", "failed")]


@dataclass
class _Pending:
    """Fetched tickers waiting to be validated and written together."""

    outcomes: dict[str, TickerOutcome] = field(default_factory=dict)
    raws: dict[str, pd.DataFrame] = field(default_factory=dict)
    rows: int = 0
    # Stored closes of the sessions each incremental fetch read again.
    overlaps: dict[str, dict[date, float]] = field(default_factory=dict)
    # Each fetched ticker's actions (checked), and the tickers read whole.
    actions: dict[str, pd.DataFrame] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)

    def add(
        self, outcome: TickerOutcome, raw: pd.DataFrame, actions: pd.DataFrame, whole: bool
    ) -> None:
        """A fetched ticker: its rows and actions (`whole`: its history read whole)."""
        ticker = outcome.ticker
        self.outcomes[ticker], self.raws[ticker], self.actions[ticker] = outcome, raw, actions
        if whole:
            self.whole.add(ticker)
        self.rows += len(raw)


def ingest_prices(
    settings: Settings,
    *,
    source: str | PriceSource | None = None,
    csv_path: Path | None = None,
    tickers: list[str] | None = None,
    end: date | None = None,
    full_refresh: bool = False,
    lock_wait_seconds: float | None = None,
    on_ticker: Callable[[str], None] | None = None,
) -> IngestResult:
    """Ingest prices from the configured (or named, or given) source into raw_prices.

    `end` ingests as of a past session (rows after it are ignored); `full_refresh` re-reads each
    ticker's whole history and updates rows whose values changed (e.g. new adjusted closes).
    """
    started = time.monotonic()
    price_source = (
        source if isinstance(source, PriceSource) else build_source(settings, source, csv_path, end)
    )
    universe = [
        t.upper() for t in (tickers or settings.tickers or price_source.available_tickers())
    ]
    if not universe:
        raise SourceError(
            f"no tickers to ingest: none configured and the {price_source.name} source lists none"
        )
    wait = settings.ingest.lock_wait_seconds if lock_wait_seconds is None else lock_wait_seconds

    with open_connection(settings) as conn:
        ensure_schema(conn)
        _acquire_lock(conn, wait)
        try:
            ingest_runs.abort_stale_runs(conn)
            run_id = ingest_runs.start_run(
                conn,
                price_source.name,
                universe,
                {
                    "csv_path": str(csv_path) if csv_path else None,
                    "end": end.isoformat() if end else None,
                    "full_refresh": full_refresh,
                },
            )
            try:
                outcomes = _ingest_all(
                    conn, run_id, settings, price_source, universe, end, full_refresh, on_ticker
                )
            except KeyboardInterrupt:
                _record_interrupt(conn, run_id)
                raise
            result = _summarise(run_id, price_source, outcomes, time.monotonic() - started)
            ingest_runs.finish_run(
                conn,
                run_id,
                status=result.status,
                totals={
                    "tickers_failed": len(result.problem_tickers),
                    "tickers_rebased": sum(t.rebased or t.readjusted for t in outcomes),
                    "rows_new": result.rows_new,
                    "rows_updated": result.rows_updated,
                    "rows_rejected": result.rows_rejected,
                },
                tickers=[t.model_dump(mode="json", exclude={"messages"}) for t in outcomes],
                errors=[
                    {"ticker": t.ticker, "status": t.status, "messages": t.messages}
                    for t in outcomes
                    if t.messages
                ]
                + (
                    [{"ticker": None, "status": "ignored", "messages": result.notes}]
                    if result.notes
                    else []
                ),
            )
            return result
        finally:
            _release_lock(conn)


def _acquire_lock(conn: Connection, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while not ingest_runs.try_lock_ingest(conn):
        if time.monotonic() >= deadline:
            holder = ingest_runs.running_ingest(conn)
            detail = (
                f" (run {holder[0]} started {holder[1]:%Y-%m-%d %H:%M:%S %Z})" if holder else ""
            )
            raise IngestLockedError(
                f"another ingest holds the lock{detail}; try again later or pass --wait SECONDS"
            )
        time.sleep(_LOCK_POLL_SECONDS)


def _record_interrupt(conn: Connection, run_id: int) -> None:
    """Mark the run interrupted; if the connection went down with it, the next run marks it
    aborted instead (its counts are right either way)."""
    try:
        ingest_runs.mark_interrupted(conn, run_id)
    except psycopg.Error as error:
        log.warning("could not mark ingest run %d interrupted: %s", run_id, error)


def _release_lock(conn: Connection) -> None:
    """Release the ingest lock; a broken connection has already released it server-side."""
    if not (conn.broken or conn.closed):
        ingest_runs.unlock_ingest(conn)


def _ingest_all(
    conn: Connection,
    run_id: int,
    settings: Settings,
    price_source: PriceSource,
    universe: list[str],
    end: date | None,
    full_refresh: bool,
    on_ticker: Callable[[str], None] | None,
) -> list[TickerOutcome]:
    calendar = configured_calendar(settings)
    today = calendar.today()
    stored = last_stored_dates(conn, universe)
    sessions = settings.ingest.overlap_sessions
    # As-traded closes never change once traded: a difference is a revision. Adjusted ones
    # change with each action the source applies.
    column = "close" if price_source.as_traded else "adj_close"
    newest = (
        newest_closes(conn, sorted(stored), sessions + 1, column)
        if sessions and not full_refresh
        else {}
    )
    outcomes: list[TickerOutcome] = []
    pending = _Pending()

    rules = settings.validation
    validate = partial(
        validate_batch,
        calendar=calendar,
        today=today,
        tolerance=rules.price_tolerance,
        max_price=rules.max_price,
    )

    def validate_and_write() -> None:
        nonlocal pending
        checked = validate(pending.raws)
        rebased = _compare_overlaps(
            checked, pending.overlaps, settings.ingest.rebase_tolerance, pending.outcomes, column
        )
        for ticker, result in checked.results.items():
            _apply_validation(pending.outcomes[ticker], result, has_history=ticker in stored)
        frame, readjust = checked.frame, set[str]()
        if price_source.as_traded:
            frame, readjust = _adjusted(conn, pending, frame, stored, rebased)
        writing = [
            o
            for o in pending.outcomes.values()
            if o.status != "rejected" and o.ticker not in readjust and o.ticker not in rebased
        ]
        names = {o.ticker for o in writing}
        actions = _actions_of(pending, names)
        _flush(conn, run_id, writing, frame, actions, sorted(pending.whole & names), price_source)
        for ticker in sorted(rebased.keys() | readjust):
            outcome = pending.outcomes[ticker]
            _reread(conn, run_id, price_source, outcome, rebased.get(ticker), end, validate)
        pending = _Pending()

    for ticker in universe:
        outcome = TickerOutcome(ticker=ticker)
        outcomes.append(outcome)
        after = None if full_refresh else stored.get(ticker)
        if overlap := newest.get(ticker):
            after = _read_again(overlap, sessions)
            pending.overlaps[ticker] = {
                d: v for d, v in overlap.items() if after is None or d > after
            }
        raw = _fetch(price_source, outcome, after, end)
        actions = None if raw is None else _fetch_actions(price_source, outcome, after, end)
        if raw is not None and actions is not None:
            pending.add(outcome, raw, actions, whole=after is None)
        if pending.rows >= settings.ingest.batch_rows:
            validate_and_write()
        if on_ticker is not None:
            on_ticker(ticker)
    validate_and_write()
    return outcomes


def _read_again(overlap: dict[date, float], sessions: int) -> date | None:
    """The stored session after which to read: the newest `sessions` are read again (None:
    the ticker has no more stored sessions than that, read it whole)."""
    days = sorted(overlap)
    return days[0] if len(days) > sessions else None


def _actions_of(pending: _Pending, tickers: set[str]) -> pd.DataFrame:
    """The fetched actions of `tickers` in one frame, with their ticker."""
    return pd.concat(
        [empty_actions().assign(ticker=pd.Series(dtype=object))]
        + [a.assign(ticker=t) for t, a in pending.actions.items() if t in tickers and len(a)],
        ignore_index=True,
    )


def _fetch(
    price_source: PriceSource, outcome: TickerOutcome, after: date | None, end: date | None
) -> pd.DataFrame | None:
    """One ticker's raw rows; None (with the reason recorded) when the source fails."""
    try:
        return price_source.fetch(outcome.ticker, after, end)
    except Exception as error:  # one ticker's failure must not sink the others
        outcome.status = "failed"
        detail = (
            str(error) if isinstance(error, SourceError) else f"{type(error).__name__}: {error}"
        )
        outcome.messages.append(clipped(f"{outcome.ticker}: [source] {detail}"))
        return None


def _fetch_actions(
    price_source: PriceSource, outcome: TickerOutcome, after: date | None, end: date | None
) -> pd.DataFrame | None:
    """One ticker's checked actions in (after, end]; None (with the reason) when they fail."""
    try:
        found = price_source.fetch_actions(outcome.ticker, after, end)
        return checked_actions(outcome.ticker, found, f"{price_source.name} actions")
    except (SourceError, ActionError) as error:
        detail = str(error)
    except Exception as error:  # one ticker's failure must not sink the others
        detail = f"{type(error).__name__}: {error}"
    outcome.status = "failed"
    outcome.messages.append(clipped(f"{outcome.ticker}: [actions] {detail}"))
    return None


def _adjusted(
    conn: Connection,
    pending: _Pending,
    frame: pd.DataFrame,
    stored: dict[str, date],
    rebased: dict[str, dict[date, float]],
) -> tuple[pd.DataFrame, set[str]]:
    """An as-traded batch with adjusted closes and split factors, and the stored tickers whose
    actions changed (their rows are left out: they are re-read whole)."""
    known = load_actions(conn, [t for t in pending.actions if t in stored])
    by_ticker = {str(t): rows for t, rows in known.groupby("ticker")}
    readjust: set[str] = set()
    actions_of: dict[str, pd.DataFrame] = {}
    for ticker, fetched in pending.actions.items():
        before = by_ticker.get(ticker)
        whole = ticker in pending.whole
        if ticker in stored and not whole and actions_changed(before, fetched, whole=False):
            readjust.add(ticker)
        if whole or before is None:
            actions_of[ticker] = fetched
        elif fetched.empty:
            actions_of[ticker] = before
        else:
            actions_of[ticker] = pd.concat([before, fetched]).drop_duplicates(
                ["ex_date", "kind"], keep="last"
            )
    frame = frame[~frame["ticker"].isin(readjust | rebased.keys())]
    adjusted, failed = adjust_rows(frame, actions_of)
    for ticker, reason in failed.items():
        outcome = pending.outcomes[ticker]
        outcome.status, outcome.rows_rejected = "rejected", outcome.rows_fetched
        outcome.messages.append(f"{ticker}: [actions] {reason}")
    return adjusted, readjust


def _compare_overlaps(
    checked: BatchValidation,
    overlaps: dict[str, dict[date, float]],
    tolerance: float,
    outcomes: dict[str, TickerOutcome],
    column: str,
) -> dict[str, dict[date, float]]:
    """The tickers whose re-read sessions moved beyond `tolerance` (with what was compared).
    Re-read rows leave `checked` (they are stored already), and so do every row of a moved
    ticker: it is re-read whole instead."""
    moved: dict[str, dict[date, float]] = {}
    for ticker, compared in overlaps.items():
        result = checked.results.get(ticker)
        if result is None or result.frame.empty:
            continue
        rows = result.frame
        again = rows["trade_date"].dt.date.isin(compared)
        days = list(rows.loc[again, "trade_date"].dt.date)
        stored = np.array([compared[day] for day in days], dtype=float)
        ratios = rows.loc[again, column].to_numpy(dtype=float) / stored
        if len(ratios) and float(abs(ratios - 1).max()) > tolerance:
            moved[ticker] = {day: compared[day] for day in days}
            outcomes[ticker].rebase_ratio = (
                float(ratios.mean())
                if float(ratios.max() / ratios.min()) - 1 <= tolerance
                else None
            )
            result.frame, result.rows_in = rows.iloc[0:0], 0  # counted when re-read whole
        else:
            result.frame = rows[rows["trade_date"].dt.date > max(compared)]
            result.rows_in -= int(again.sum())  # re-read, not fetched anew
    if overlaps:
        cutoff = checked.frame["ticker"].map(
            {t: pd.Timestamp(max(c)) for t, c in overlaps.items() if c}
        )
        keep = (cutoff.isna() | (checked.frame["trade_date"] > cutoff)) & ~checked.frame[
            "ticker"
        ].isin(moved)
        checked.frame = checked.frame[keep]
    return moved


def _reread(
    conn: Connection,
    run_id: int,
    price_source: PriceSource,
    outcome: TickerOutcome,
    compared: dict[date, float] | None,
    end: date | None,
    validate: Callable[[dict[str, pd.DataFrame]], BatchValidation],
) -> None:
    """Re-read a ticker whole and replace its stored history (changed and new rows) and actions
    in one transaction: the source re-wrote the stored sessions (`compared`, recorded as a
    revision), or, for an as-traded source, its actions changed and its history is re-adjusted."""
    ticker = outcome.ticker
    raw = _fetch(price_source, outcome, None, end)
    actions = None if raw is None else _fetch_actions(price_source, outcome, None, end)
    if raw is None or actions is None:
        return
    checked = validate({ticker: raw})
    result = checked.results[ticker]
    outcome.messages.extend(clipped(str(issue)) for issue in result.issues[:MAX_ISSUES_LISTED])
    frame, failed = checked.frame, dict[str, str]()
    if price_source.as_traded and not frame.empty:
        frame, failed = adjust_rows(frame, {ticker: actions})
    why = "the source re-wrote the stored history" if compared else "its actions changed"
    if result.rejected or frame.empty:
        outcome.status = "rejected"
        outcome.messages.extend(f"{ticker}: [actions] {reason}" for reason in failed.values())
        outcome.messages.append(
            f"{ticker}: [{'rebased' if compared else 'adjusted'}] {why}, and reading it whole "
            "again failed validation: nothing was changed"
        )
        return
    try:
        with conn.transaction():
            counts = upsert_prices(conn, frame, price_source.name)
            store_actions(conn, actions.assign(ticker=ticker), price_source.name, [ticker])
            new = counts.new.get(ticker, 0)
            updated = counts.updated.get(ticker, 0)
            if compared:
                record_revision(
                    conn,
                    run_id,
                    ticker,
                    outcome.rebase_ratio,
                    (min(compared), max(compared)),
                    new + updated,
                )
            ingest_runs.add_committed(conn, run_id, new, updated)
    except psycopg.Error as error:  # one ticker's failure must not sink the others
        outcome.status = "failed"
        outcome.messages.append(f"{ticker}: [database] {str(error).strip()}")
        return
    outcome.status = "stored"
    outcome.rows_new, outcome.rows_updated = new, updated
    outcome.first_date = frame["trade_date"].iloc[0].date()
    outcome.last_date = frame["trade_date"].iloc[-1].date()
    if compared:
        outcome.rebased = True
        outcome.messages.append(
            f"{ticker}: [rebased] the source re-wrote the stored history "
            f"{how_it_moved(outcome.rebase_ratio)} (compared {min(compared)} to {max(compared)}); "
            f"re-read whole: {updated} stored rows replaced, {new} new"
        )
    else:
        outcome.readjusted = True
        outcome.messages.append(
            f"{ticker}: [adjusted] new or changed splits or dividends "
            f"({_listed(actions)}); re-read whole: {updated} stored rows re-adjusted, {new} new"
        )


def _listed(actions: pd.DataFrame, most: int = 3) -> str:
    """The newest actions in words: `2:1 split 2020-06-01, dividend 0.27 2020-07-06`."""
    words = [
        f"{'split' if kind == 'split' else 'dividend'} {value:g} {day:%Y-%m-%d}"
        for day, kind, value in actions[["ex_date", "kind", "value"]]
        .tail(most)
        .itertuples(index=False)
    ]
    return ", ".join(words) if words else "none left"


def _apply_validation(outcome: TickerOutcome, checked: ValidationResult, has_history: bool) -> None:
    outcome.rows_fetched = checked.rows_in
    outcome.messages.extend(clipped(str(issue)) for issue in checked.issues[:MAX_ISSUES_LISTED])
    if len(checked.issues) > MAX_ISSUES_LISTED:
        outcome.messages.append(f"… and {len(checked.issues) - MAX_ISSUES_LISTED} more issues")
    if checked.rejected:
        outcome.status = "rejected"
        outcome.rows_rejected = checked.rows_in
    elif checked.frame.empty and not has_history:
        outcome.status = "rejected"
        outcome.messages.append(f"{outcome.ticker}: [non-empty] the source has no rows for it")
    else:
        outcome.rows_rejected = checked.rows_in - len(checked.frame)
        if not checked.frame.empty:
            outcome.first_date = checked.frame["trade_date"].iloc[0].date()
            outcome.last_date = checked.frame["trade_date"].iloc[-1].date()


def _flush(
    conn: Connection,
    run_id: int,
    outcomes: list[TickerOutcome],
    frame: pd.DataFrame,
    actions: pd.DataFrame,
    whole: list[str],
    source: PriceSource,
) -> None:
    """Write the rows and actions of `outcomes`' tickers in one transaction with their counts in
    the run's record (`whole`: tickers whose every action was read, the others' stored ones
    go); if it fails, retry ticker by ticker to isolate the culprit."""
    if frame.empty and actions.empty and not whole:
        return
    try:
        with conn.transaction():
            counts = upsert_prices(conn, frame, source.name)
            if len(actions) or whole:
                store_actions(conn, actions, source.name, whole)
            new, updated = sum(counts.new.values()), sum(counts.updated.values())
            ingest_runs.add_committed(conn, run_id, new, updated)
    except psycopg.Error as error:
        if len(outcomes) == 1:
            outcomes[0].status = "failed"
            outcomes[0].messages.append(f"{outcomes[0].ticker}: [database] {str(error).strip()}")
            return
        log.warning(
            "batch of %d tickers failed (%s); writing them one by one", len(outcomes), error
        )
        for outcome in outcomes:
            ticker = outcome.ticker
            _flush(
                conn,
                run_id,
                [outcome],
                frame[frame["ticker"] == ticker],
                actions[actions["ticker"] == ticker],
                [ticker] if ticker in whole else [],
                source,
            )
        return
    for outcome in outcomes:
        outcome.rows_new = counts.new.get(outcome.ticker, 0)
        outcome.rows_updated = counts.updated.get(outcome.ticker, 0)
        outcome.status = "stored" if outcome.rows_new or outcome.rows_updated else "unchanged"


def _summarise(
    run_id: int, source: PriceSource, outcomes: list[TickerOutcome], seconds: float
) -> IngestResult:
    bad = sum(o.status in ("rejected", "failed") for o in outcomes)
    status: Literal["succeeded", "partial", "failed"] = (
        "succeeded" if bad == 0 else "failed" if bad == len(outcomes) else "partial"
    )
    return IngestResult(
        run_id=run_id,
        source=source.name,
        status=status,
        rows_new=sum(o.rows_new for o in outcomes),
        rows_updated=sum(o.rows_updated for o in outcomes),
        rows_rejected=sum(o.rows_rejected for o in outcomes),
        seconds=round(seconds, 3),
        tickers=outcomes,
        notes=source.notes(),
    )
