"""Text shown to people or stored in run records: bounded, whatever the input held."""

from __future__ import annotations

# Characters of one message kept; the rest is counted (a file of NUL bytes once made a 200 KB
# one-line error, stored in every ingest run's record).
MESSAGE_LIMIT = 500


def clipped(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` up to `limit` characters, then how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"
