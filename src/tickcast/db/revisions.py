"""Re-written price histories found at ingest (price_revisions)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from tickcast.db.connection import Connection


class PriceRevision(BaseModel):
    ticker: str
    run_id: int
    detected_at: datetime
    kind: str  # ratio | revision
    ratio: float | None
    compared_from: date
    compared_to: date
    rows_changed: int

    def describe(self) -> str:
        """One line for a report: what moved, from when, and what was replaced."""
        return (
            f"history re-written by the source {how_it_moved(self.ratio)} up to "
            f"{self.compared_to}, re-read whole by ingest run {self.run_id} "
            f"({self.rows_changed} rows replaced)"
        )


def how_it_moved(ratio: float | None) -> str:
    """A re-written history in words: by one factor (new / stored) or by different amounts."""
    if ratio is None:
        return "by different amounts (a revision)"
    return f"by a factor of {ratio:.6g} (a split or dividend)"


def record_revision(
    conn: Connection,
    run_id: int,
    ticker: str,
    ratio: float | None,
    compared: tuple[date, date],
    rows_changed: int,
) -> None:
    conn.execute(
        "INSERT INTO price_revisions"
        " (run_id, ticker, kind, ratio, compared_from, compared_to, rows_changed)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (run_id, ticker, "revision" if ratio is None else "ratio", ratio, *compared, rows_changed),
    )


def revisions_between(
    conn: Connection, tickers: list[str], start: date, end: date
) -> dict[str, list[PriceRevision]]:
    """Each ticker's revisions found when its stored sessions up to a day in [start, end] were
    re-read, oldest first."""
    rows = conn.execute(
        "SELECT ticker, run_id, detected_at, kind, ratio, compared_from, compared_to, rows_changed"
        " FROM price_revisions WHERE ticker = ANY(%s) AND compared_to BETWEEN %s AND %s"
        " ORDER BY compared_to, id",
        (tickers, start, end),
    ).fetchall()
    fields = list(PriceRevision.model_fields)
    found: dict[str, list[PriceRevision]] = {}
    for row in rows:
        revision = PriceRevision(**dict(zip(fields, row, strict=True)))
        found.setdefault(revision.ticker, []).append(revision)
    return found
