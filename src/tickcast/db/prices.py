"""Queries on raw_prices: last stored dates and the bulk upsert (COPY into staging, then merge)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from psycopg import sql
from pydantic import BaseModel

from tickcast.db.connection import Connection

PRICE_COLUMNS = ["open", "high", "low", "close", "adj_close", "volume"]
_STAGE_COLUMNS = ["ticker", "trade_date", *PRICE_COLUMNS]


class UpsertCounts(BaseModel):
    """Rows inserted and rows whose values changed, per ticker; identical rows count in neither."""

    new: dict[str, int] = {}
    updated: dict[str, int] = {}


def last_stored_dates(conn: Connection, tickers: list[str]) -> dict[str, date]:
    """The newest stored trading date per ticker (tickers with no rows are absent)."""
    rows = conn.execute(
        "SELECT ticker, max(trade_date) FROM raw_prices WHERE ticker = ANY(%s) GROUP BY ticker",
        (tickers,),
    ).fetchall()
    return {ticker: last for ticker, last in rows}


def upsert_prices(conn: Connection, frame: pd.DataFrame, source: str) -> UpsertCounts:
    """Merge validated rows (columns ticker, trade_date, open..volume) atomically.

    Inside a caller's transaction it is a savepoint of it, so a batch commits as a whole.

    Rows of tickers with nothing stored yet (a first load) are COPYed straight into raw_prices.
    The others are COPYed into a session-local staging table; an UPDATE rewrites stored rows whose
    values differ and an INSERT adds the keys not stored yet, so re-ingesting identical data
    changes nothing. That INSERT skips existing keys with an anti-join, about twice as fast as
    ON CONFLICT's speculative insertion (bench/ingest.py); if a writer outside tickcast's ingest
    lock adds a key in between, the direct COPY falls back to the merge and the merge's INSERT to
    INSERT … ON CONFLICT DO NOTHING. The primary key keeps every path free of duplicates.
    """
    if frame.empty:
        return UpsertCounts()
    with conn.transaction():
        fresh = _tickers_without_rows(conn, frame["ticker"].unique().tolist())
        is_fresh = frame["ticker"].isin(fresh)
        try:
            with conn.transaction():
                new = _copy_fresh(conn, frame[is_fresh], source)
        except psycopg.errors.UniqueViolation:  # another writer stored some meanwhile: merge all
            new, is_fresh = {}, pd.Series(False, index=frame.index)
        if is_fresh.all():
            return UpsertCounts(new=new)
        # Probe the primary key once per staged row: the cost follows the batch, not the table
        # (a hash join would read all of raw_prices for every batch).
        conn.execute("SET LOCAL enable_hashjoin = off")
        conn.execute("SET LOCAL enable_mergejoin = off")
        _stage(conn, frame[~is_fresh])
        updated = conn.execute(_UPDATE_CHANGED_ROWS, {"source": source}).fetchall()
        new.update(_insert_new_rows(conn, source))
        conn.execute("RESET enable_hashjoin")
        conn.execute("RESET enable_mergejoin")
    return UpsertCounts(new=new, updated=dict(updated))


def _tickers_without_rows(conn: Connection, tickers: list[str]) -> list[str]:
    rows = conn.execute(
        "SELECT t FROM unnest(%s::text[]) AS t"
        " WHERE NOT EXISTS (SELECT 1 FROM raw_prices WHERE ticker = t)",
        (tickers,),
    ).fetchall()
    return [row[0] for row in rows]


def _copy_fresh(conn: Connection, frame: pd.DataFrame, source: str) -> dict[str, int]:
    """COPY rows of never-stored tickers directly into raw_prices; per-ticker counts."""
    if frame.empty:
        return {}
    with conn.cursor().copy(
        "COPY raw_prices (ticker, trade_date, open, high, low, close, adj_close, volume, source)"
        " FROM STDIN (FORMAT csv)"
    ) as copy:
        copy.write(_csv_bytes(frame[_STAGE_COLUMNS].assign(source=source)))
    return {str(k): int(v) for k, v in frame["ticker"].value_counts().items()}


def _stage(conn: Connection, frame: pd.DataFrame) -> None:
    """COPY the rows into the session's (emptied) staging table."""
    conn.execute(
        """
        CREATE TEMP TABLE IF NOT EXISTS raw_prices_stage (
            ticker text, trade_date date, open double precision, high double precision,
            low double precision, close double precision, adj_close double precision,
            volume bigint
        )
        """
    )
    conn.execute("TRUNCATE raw_prices_stage")
    with conn.cursor().copy(
        "COPY raw_prices_stage (ticker, trade_date, open, high, low, close, adj_close, volume)"
        " FROM STDIN (FORMAT csv)"
    ) as copy:
        copy.write(_csv_bytes(frame[_STAGE_COLUMNS]))


def _insert_new_rows(conn: Connection, source: str) -> list[tuple[str, int]]:
    """Insert staged keys not stored yet; per-ticker counts."""
    try:
        with conn.transaction():
            return conn.execute(
                _INSERT_NEW_ROWS.format(on_conflict=""), {"source": source}
            ).fetchall()
    except psycopg.errors.UniqueViolation:  # a writer outside the ingest lock added a key meanwhile
        on_conflict = "ON CONFLICT (ticker, trade_date) DO NOTHING"
        return conn.execute(
            _INSERT_NEW_ROWS.format(on_conflict=on_conflict), {"source": source}
        ).fetchall()


_UPDATE_CHANGED_ROWS = """
    WITH changed AS (
        UPDATE raw_prices AS p SET
            open = s.open, high = s.high, low = s.low, close = s.close,
            adj_close = s.adj_close, volume = s.volume, source = %(source)s, ingested_at = now()
        FROM raw_prices_stage AS s
        WHERE p.ticker = s.ticker AND p.trade_date = s.trade_date
          AND (p.open, p.high, p.low, p.close, p.adj_close, p.volume)
              IS DISTINCT FROM (s.open, s.high, s.low, s.close, s.adj_close, s.volume)
        RETURNING p.ticker
    )
    SELECT ticker, count(*) FROM changed GROUP BY ticker
"""

_INSERT_NEW_ROWS = """
    WITH added AS (
        INSERT INTO raw_prices (ticker, trade_date, open, high, low, close, adj_close, volume, source)
        SELECT s.ticker, s.trade_date, s.open, s.high, s.low, s.close, s.adj_close, s.volume,
               %(source)s
        FROM raw_prices_stage AS s
        WHERE NOT EXISTS (
            SELECT 1 FROM raw_prices AS p WHERE p.ticker = s.ticker AND p.trade_date = s.trade_date
        )
        {on_conflict}
        RETURNING ticker
    )
    SELECT ticker, count(*) FROM added GROUP BY ticker
"""


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    """Rows as headerless CSV, written by Arrow (several times faster than DataFrame.to_csv).

    Floats are written in their shortest round-trip form, so stored values equal the inputs.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    position = table.schema.get_field_index("trade_date")
    table = table.set_column(position, "trade_date", pc.cast(table["trade_date"], pa.date32()))
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, write_options=pa_csv.WriteOptions(include_header=False))
    csv_bytes: bytes = sink.getvalue().to_pybytes()
    return csv_bytes


def insert_prices_row_by_row(conn: Connection, frame: pd.DataFrame, source: str) -> int:
    """The naive baseline the benchmark compares against: one INSERT statement per row.

    Inside a `conn.transaction()` block the rows commit together; outside one (autocommit) each
    row commits on its own, as a loop of inserts on an autocommit connection does.
    """
    inserted = 0
    with conn.cursor() as cursor:
        for row in frame[["ticker", "trade_date", *PRICE_COLUMNS]].itertuples(index=False):
            cursor.execute(
                "INSERT INTO raw_prices"
                " (ticker, trade_date, open, high, low, close, adj_close, volume, source)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (*row, source),
            )
            inserted += cursor.rowcount
    return inserted


def count_prices(conn: Connection) -> dict[str, int]:
    """Stored rows per ticker."""
    rows = conn.execute("SELECT ticker, count(*) FROM raw_prices GROUP BY ticker").fetchall()
    return {ticker: count for ticker, count in rows}


def load_prices(
    conn: Connection, tickers: list[str] | None = None, end: date | None = None
) -> pd.DataFrame:
    """Stored prices up to `end` (all when None) of `tickers` (all when None), ordered by ticker
    and date. Streamed with COPY and parsed by Arrow: a million rows take about a second."""
    query = sql.SQL(
        "COPY (SELECT ticker, trade_date, open, high, low, close, adj_close, volume, source"
        " FROM raw_prices WHERE ({all} OR ticker = ANY({tickers}))"
        " AND ({end}::date IS NULL OR trade_date <= {end}::date)"
        " ORDER BY ticker, trade_date) TO STDOUT (FORMAT csv, HEADER)"
    ).format(
        all=sql.Literal(tickers is None),
        tickers=sql.Literal(tickers or []),
        end=sql.Literal(end),
    )
    buffer = bytearray()
    with conn.cursor().copy(query) as copy:
        for chunk in copy:
            buffer += chunk
    table = pa_csv.read_csv(
        pa.py_buffer(bytes(buffer)),
        convert_options=pa_csv.ConvertOptions(column_types=_LOAD_TYPES),
    )
    frame: pd.DataFrame = table.to_pandas()
    frame["trade_date"] = frame["trade_date"].astype("datetime64[ns]").dt.date
    return frame


_LOAD_TYPES = {
    "ticker": pa.string(),
    "trade_date": pa.date32(),
    **{name: pa.float64() for name in PRICE_COLUMNS if name != "volume"},
    "volume": pa.int64(),
    "source": pa.string(),
}
