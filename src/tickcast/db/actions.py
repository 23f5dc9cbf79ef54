"""Stored corporate actions (corporate_actions) and accepted jumps (price_acceptances)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from tickcast.db.connection import Connection

_STORED = ["ticker", "ex_date", "kind", "value"]


def load_actions(
    conn: Connection, tickers: list[str] | None, end: date | None = None
) -> pd.DataFrame:
    """Stored actions of `tickers` (all when None) with ex-dates up to `end`: ticker, ex_date
    (Timestamp), kind, value; ordered by ticker and ex-date."""
    rows = conn.execute(
        "SELECT ticker, ex_date, kind, value FROM corporate_actions"
        " WHERE (%(tickers)s::text[] IS NULL OR ticker = ANY(%(tickers)s))"
        " AND (%(end)s::date IS NULL OR ex_date <= %(end)s::date)"
        " ORDER BY ticker, ex_date, kind",
        {"tickers": tickers, "end": end},
    ).fetchall()
    frame = pd.DataFrame(rows, columns=_STORED)
    frame["ex_date"] = pd.to_datetime(frame["ex_date"])
    return frame.astype({"value": float, "ticker": object, "kind": object})


def store_actions(
    conn: Connection, actions: pd.DataFrame, source: str, replace: list[str] | None = None
) -> int:
    """Insert new actions (ticker, ex_date, kind, value) and update changed values; for the
    tickers in `replace` (their whole history was read), delete stored actions not in `actions`.
    Returns the actions inserted, changed or deleted."""
    changed = 0
    with conn.transaction():
        if replace:
            keep = actions[actions["ticker"].isin(replace)]
            cursor = conn.execute(
                "DELETE FROM corporate_actions AS a WHERE a.ticker = ANY(%s) AND NOT EXISTS ("
                " SELECT 1 FROM unnest(%s::text[], %s::date[], %s::text[]) AS k (ticker, ex_date, kind)"
                " WHERE k.ticker = a.ticker AND k.ex_date = a.ex_date AND k.kind = a.kind)",
                (
                    replace,
                    keep["ticker"].tolist(),
                    [d.date() for d in keep["ex_date"]],
                    keep["kind"].tolist(),
                ),
            )
            changed += cursor.rowcount
        if not actions.empty:
            cursor = conn.execute(
                "INSERT INTO corporate_actions (ticker, ex_date, kind, value, source)"
                " SELECT *, %s FROM unnest(%s::text[], %s::date[], %s::text[], %s::float8[])"
                " ON CONFLICT (ticker, ex_date, kind) DO UPDATE"
                " SET value = excluded.value, source = excluded.source, recorded_at = now()"
                " WHERE corporate_actions.value IS DISTINCT FROM excluded.value",
                (
                    source,
                    actions["ticker"].tolist(),
                    [d.date() for d in actions["ex_date"]],
                    actions["kind"].tolist(),
                    actions["value"].astype(float).tolist(),
                ),
            )
            changed += cursor.rowcount
    return changed


def accept_jump(conn: Connection, ticker: str, trade_date: date, note: str) -> bool:
    """Record that the stored return on `trade_date` is real; False when it was accepted before."""
    cursor = conn.execute(
        "INSERT INTO price_acceptances (ticker, trade_date, note) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (ticker, trade_date, note),
    )
    return cursor.rowcount == 1


def accepted_jumps(conn: Connection, tickers: list[str] | None) -> set[tuple[str, date]]:
    rows = conn.execute(
        "SELECT ticker, trade_date FROM price_acceptances"
        " WHERE %(tickers)s::text[] IS NULL OR ticker = ANY(%(tickers)s)",
        {"tickers": tickers},
    ).fetchall()
    return {(ticker, day) for ticker, day in rows}


def stored_return(conn: Connection, ticker: str, trade_date: date) -> tuple[float | None] | None:
    """`ticker`'s stored adjusted log return on `trade_date` (None inside: its first session);
    None when nothing is stored that day."""
    row = conn.execute(
        "SELECT ln(p.adj_close / (SELECT q.adj_close FROM raw_prices AS q"
        "   WHERE q.ticker = p.ticker AND q.trade_date < p.trade_date"
        "   ORDER BY q.trade_date DESC LIMIT 1))"
        " FROM raw_prices AS p WHERE p.ticker = %s AND p.trade_date = %s",
        (ticker, trade_date),
    ).fetchone()
    return None if row is None else (None if row[0] is None else float(row[0]),)
