"""Queries on interval_adaptation (the online offsets of a version's quantiles) and the
per-session shares of outcomes above each issued quantile they are moved by."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
from psycopg.rows import dict_row

from tickcast.db.connection import Connection


def latest_adaptation(
    conn: Connection, model_name: str, model_version: int, levels: list[float], before: date
) -> dict[str, Any] | None:
    """The version's newest stored state at `levels` folded from sessions before `before`."""
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            """
            SELECT session, sessions, model_offsets, baseline_offsets
            FROM interval_adaptation
            WHERE model_name = %(model)s AND model_version = %(version)s
              AND session < %(before)s AND levels = %(levels)s::double precision[]
            ORDER BY session DESC LIMIT 1
            """,
            {"model": model_name, "version": model_version, "before": before, "levels": levels},
        )
        return cursor.fetchone()


def store_adaptation(conn: Connection, row: dict[str, Any]) -> None:
    """Keep one state (model_name, model_version, session, sessions, levels, model_offsets,
    baseline_offsets); the same session again replaces it."""
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO interval_adaptation (model_name, model_version, session, sessions,
                levels, model_offsets, baseline_offsets)
            VALUES (%(model_name)s, %(model_version)s, %(session)s, %(sessions)s, %(levels)s,
                %(model_offsets)s, %(baseline_offsets)s)
            ON CONFLICT (model_name, model_version, session) DO UPDATE SET
                sessions = EXCLUDED.sessions, levels = EXCLUDED.levels,
                model_offsets = EXCLUDED.model_offsets,
                baseline_offsets = EXCLUDED.baseline_offsets, created_at = now()
            """,
            row,
        )


def shares_above(
    conn: Connection,
    model_name: str,
    model_version: int,
    levels: list[float],
    after: date | None,
    before: date,
) -> list[tuple[date, np.ndarray, np.ndarray]]:
    """Per scored target date in (after, before), oldest first: the share of the version's
    outcomes above each issued quantile (levels,), for its quantiles and the baseline's."""
    rows = conn.execute(
        """
        SELECT s.target_date, u.i,
               avg((s.actual_close > u.q)::int)::float8, avg((s.actual_close > u.b)::int)::float8
        FROM model_performance_log AS s
        CROSS JOIN LATERAL unnest(s.predicted_quantiles, s.baseline_quantiles)
            WITH ORDINALITY AS u (q, b, i)
        WHERE s.model_name = %(model)s AND s.model_version = %(version)s
          AND s.target_date > %(after)s AND s.target_date < %(before)s
          AND s.quantile_levels = %(levels)s::double precision[]
          AND s.predicted_quantiles IS NOT NULL AND s.baseline_quantiles IS NOT NULL
        GROUP BY s.target_date, u.i
        ORDER BY s.target_date, u.i
        """,
        {
            "model": model_name,
            "version": model_version,
            "levels": levels,
            "after": after or date.min,
            "before": before,
        },
    ).fetchall()
    found: dict[date, tuple[np.ndarray, np.ndarray]] = {}
    for day, index, model, baseline in rows:
        shares = found.setdefault(day, (np.full(len(levels), np.nan), np.full(len(levels), np.nan)))
        shares[0][index - 1], shares[1][index - 1] = model, baseline
    return [(day, model, baseline) for day, (model, baseline) in found.items()]
