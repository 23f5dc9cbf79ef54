"""The universe's membership over time (universe_members)."""

from __future__ import annotations

from datetime import date

from tickcast.db.connection import Connection

Interval = tuple[date, date | None]  # first and last session as a member (None: still one)


def replace_members(conn: Connection, members: list[tuple[str, date, date | None]]) -> int:
    """Replace the whole membership table in one transaction; returns the intervals stored."""
    with conn.transaction():
        conn.execute("DELETE FROM universe_members")
        with conn.cursor().copy(
            "COPY universe_members (ticker, member_from, member_to) FROM STDIN"
        ) as copy:
            for row in members:
                copy.write_row(row)
    return len(members)


def load_members(conn: Connection) -> dict[str, list[Interval]]:
    """Each ticker's membership intervals, oldest first; empty when no universe is loaded."""
    rows = conn.execute(
        "SELECT ticker, member_from, member_to FROM universe_members ORDER BY ticker, member_from"
    ).fetchall()
    members: dict[str, list[Interval]] = {}
    for ticker, first, last in rows:
        members.setdefault(ticker, []).append((first, last))
    return members
