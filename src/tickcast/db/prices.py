"""Queries on raw_prices: last stored dates and the bulk upsert (COPY into staging, then merge)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
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
    """Merge validated rows (columns ticker, trade_date, open..volume) inside the caller's transaction.

    COPY streams the rows into a session-local staging table; one INSERT … ON CONFLICT merges them,
    touching only rows whose values differ, so re-ingesting identical data changes nothing.
    """
    if frame.empty:
        return UpsertCounts()
    conn.execute(
        """
        CREATE TEMP TABLE IF NOT EXISTS raw_prices_stage (
            ticker text, trade_date date, open double precision, high double precision,
            low double precision, close double precision, adj_close double precision,
            volume bigint
        )
        """
    )
    with conn.cursor().copy(
        "COPY raw_prices_stage (ticker, trade_date, open, high, low, close, adj_close, volume)"
        " FROM STDIN (FORMAT csv)"
    ) as copy:
        copy.write(_csv_bytes(frame[_STAGE_COLUMNS]))
    rows = conn.execute(
        """
        WITH merged AS (
            INSERT INTO raw_prices AS p
                (ticker, trade_date, open, high, low, close, adj_close, volume, source)
            SELECT ticker, trade_date, open, high, low, close, adj_close, volume, %(source)s
            FROM raw_prices_stage
            ON CONFLICT (ticker, trade_date) DO UPDATE SET
                open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
                close = EXCLUDED.close, adj_close = EXCLUDED.adj_close, volume = EXCLUDED.volume,
                source = EXCLUDED.source, ingested_at = now()
            WHERE (p.open, p.high, p.low, p.close, p.adj_close, p.volume)
                IS DISTINCT FROM
                  (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close,
                   EXCLUDED.adj_close, EXCLUDED.volume)
            RETURNING p.ticker, (p.xmax = 0) AS inserted
        )
        SELECT ticker,
               count(*) FILTER (WHERE inserted),
               count(*) FILTER (WHERE NOT inserted)
        FROM merged GROUP BY ticker
        """,
        {"source": source},
    ).fetchall()
    conn.execute("TRUNCATE raw_prices_stage")
    return UpsertCounts(
        new={ticker: new for ticker, new, _ in rows if new},
        updated={ticker: updated for ticker, _, updated in rows if updated},
    )


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
    """The naive baseline the benchmark compares against: one INSERT statement per row."""
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


def load_prices(conn: Connection, tickers: list[str] | None = None) -> pd.DataFrame:
    """Stored prices ordered by ticker and date (all tickers when `tickers` is None)."""
    query = (
        "SELECT ticker, trade_date, open, high, low, close, adj_close, volume, source"
        " FROM raw_prices WHERE (%(all)s OR ticker = ANY(%(tickers)s)) ORDER BY ticker, trade_date"
    )
    with conn.cursor() as cursor:
        cursor.execute(query, {"all": tickers is None, "tickers": tickers or []})
        columns = [c.name for c in cursor.description or []]
        return pd.DataFrame(cursor.fetchall(), columns=columns)
