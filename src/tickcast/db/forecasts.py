"""Queries on predictions and model_performance_log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from psycopg.rows import dict_row

from tickcast.db.connection import Connection

# Optional: a forecast without intervals (an older bundle, unknown volatility) stores NULL.
_QUANTILE_COLUMNS = (
    "quantile_levels",
    "predicted_quantiles",
    "baseline_quantiles",
    "interval_centre",
    "interval_scale",
    "baseline_centre",
    "baseline_scale",
    "reversal_log_return",
    "market_log_return",
)
_PREDICTION_COLUMNS = (
    "target_date",
    "ticker",
    "model_name",
    "model_version",
    "run_id",
    "dataset_id",
    "predicted_log_return",
    "predicted_close",
    "last_close",
    "last_close_date",
)


def upsert_predictions(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Store forecasts; a re-run for the same (target, ticker, model version) replaces the row."""
    with conn.transaction(), conn.cursor() as cursor:
        cursor.executemany(
            """
            INSERT INTO predictions (target_date, ticker, model_name, model_version, run_id,
                dataset_id, predicted_log_return, predicted_close, last_close, last_close_date,
                quantile_levels, predicted_quantiles, baseline_quantiles, interval_centre,
                interval_scale, baseline_centre, baseline_scale, reversal_log_return,
                market_log_return)
            VALUES (%(target_date)s, %(ticker)s, %(model_name)s, %(model_version)s, %(run_id)s,
                %(dataset_id)s, %(predicted_log_return)s, %(predicted_close)s, %(last_close)s,
                %(last_close_date)s, %(quantile_levels)s, %(predicted_quantiles)s,
                %(baseline_quantiles)s, %(interval_centre)s, %(interval_scale)s,
                %(baseline_centre)s, %(baseline_scale)s, %(reversal_log_return)s,
                %(market_log_return)s)
            ON CONFLICT (target_date, ticker, model_name, model_version) DO UPDATE SET
                run_id = EXCLUDED.run_id, dataset_id = EXCLUDED.dataset_id,
                predicted_log_return = EXCLUDED.predicted_log_return,
                predicted_close = EXCLUDED.predicted_close, last_close = EXCLUDED.last_close,
                last_close_date = EXCLUDED.last_close_date,
                quantile_levels = EXCLUDED.quantile_levels,
                predicted_quantiles = EXCLUDED.predicted_quantiles,
                baseline_quantiles = EXCLUDED.baseline_quantiles,
                interval_centre = EXCLUDED.interval_centre,
                interval_scale = EXCLUDED.interval_scale,
                baseline_centre = EXCLUDED.baseline_centre,
                baseline_scale = EXCLUDED.baseline_scale,
                reversal_log_return = EXCLUDED.reversal_log_return,
                market_log_return = EXCLUDED.market_log_return, created_at = now()
            """,
            [
                {key: row.get(key) for key in (*_PREDICTION_COLUMNS, *_QUANTILE_COLUMNS)}
                for row in rows
            ],
        )
    return len(rows)


def score_predictions(
    conn: Connection, model_name: str, as_of: date, held: Mapping[str, date] | None = None
) -> int:
    """Score every forecast with target date <= as_of whose actual close is stored and that is not
    scored yet; forecasts whose ticker has no price that day wait, and so do those of a ticker
    in `held` (quarantined from that date: its price may be wrong). Returns rows scored.

    The actual return is read from the stored adjusted closes, and a forecast made before a split
    or dividend (its close, band and quantiles) is rebased onto the outcome's basis: a 7:1 split
    scores as the day's real move, not as -85 %.

    Only pending forecasts are read (`predictions.scored`, a partial index): the cost follows
    what waits, not the history."""
    with conn.transaction():
        scored = _score_pending(conn, model_name, as_of, held or {})
        conn.execute(
            """
            UPDATE predictions AS p SET scored = true
            WHERE p.model_name = %(model)s AND NOT p.scored AND p.target_date <= %(as_of)s
              AND EXISTS (SELECT 1 FROM model_performance_log AS s
                          WHERE s.target_date = p.target_date AND s.ticker = p.ticker
                            AND s.model_name = p.model_name AND s.model_version = p.model_version)
            """,
            {"model": model_name, "as_of": as_of},
        )
    return scored


def _score_pending(conn: Connection, model_name: str, as_of: date, held: Mapping[str, date]) -> int:
    cursor = conn.execute(
        """
        INSERT INTO model_performance_log (target_date, ticker, model_name, model_version,
            actual_close, predicted_close, last_close, predicted_log_return, actual_log_return,
            abs_error, pct_error, direction_hit, persistence_abs_error,
            quantile_levels, predicted_quantiles, baseline_quantiles,
            interval_centre, interval_scale, baseline_centre, baseline_scale,
            reversal_log_return, market_log_return)
        SELECT p.target_date, p.ticker, p.model_name, p.model_version,
               r.close, p.predicted_close * b.k, p.last_close * b.k, p.predicted_log_return,
               a.actual_log_return,
               abs(p.predicted_close * b.k - r.close),
               abs(p.predicted_close * b.k - r.close) / r.close * 100,
               (p.predicted_log_return > 0) = (a.actual_log_return > 0),
               abs(p.last_close * b.k - r.close),
               p.quantile_levels,
               (SELECT array_agg(q * b.k ORDER BY i)
                FROM unnest(p.predicted_quantiles) WITH ORDINALITY AS u (q, i)),
               (SELECT array_agg(q * b.k ORDER BY i)
                FROM unnest(p.baseline_quantiles) WITH ORDINALITY AS u (q, i)),
               p.interval_centre, p.interval_scale, p.baseline_centre, p.baseline_scale,
               p.reversal_log_return, p.market_log_return
        FROM predictions AS p
        JOIN raw_prices AS r ON r.ticker = p.ticker AND r.trade_date = p.target_date
        LEFT JOIN raw_prices AS l ON l.ticker = p.ticker AND l.trade_date = p.last_close_date
        -- The return on the stored adjusted series, which no split or dividend moves; and the
        -- factor k that puts the forecast's closes (made on the basis of its day) on the basis
        -- of the outcome's close: 1 unless an action or a re-written history came between.
        CROSS JOIN LATERAL (
            SELECT CASE WHEN l.ticker IS NULL THEN ln(r.close / p.last_close)
                        ELSE ln(r.adj_close / l.adj_close) END AS actual_log_return
        ) AS a
        CROSS JOIN LATERAL (
            SELECT CASE WHEN abs(r.close / exp(a.actual_log_return) / p.last_close - 1) < 1e-9
                        THEN 1.0 ELSE r.close / exp(a.actual_log_return) / p.last_close END AS k
        ) AS b
        WHERE p.model_name = %(model)s AND NOT p.scored AND p.target_date <= %(as_of)s
          AND NOT EXISTS (SELECT 1 FROM unnest(%(held)s::text[], %(since)s::date[]) AS h (t, d)
                          WHERE h.t = p.ticker AND p.target_date >= h.d)
        ON CONFLICT DO NOTHING
        """,
        {"model": model_name, "as_of": as_of, "held": list(held), "since": list(held.values())},
    )
    return cursor.rowcount


def scored_rows(conn: Connection, model_name: str, as_of: date, sessions: int) -> pd.DataFrame:
    """Scored rows of the newest `sessions` scored target dates up to as_of (all versions)."""
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            """
            SELECT * FROM model_performance_log
            WHERE model_name = %(model)s AND target_date IN (
                SELECT DISTINCT target_date FROM model_performance_log
                WHERE model_name = %(model)s AND target_date <= %(as_of)s
                ORDER BY target_date DESC LIMIT %(sessions)s)
            ORDER BY target_date, ticker
            """,
            {"model": model_name, "as_of": as_of, "sessions": sessions},
        )
        return pd.DataFrame(cursor.fetchall())


@dataclass(frozen=True)
class BandScores:
    """Where each scored forecast's outcome fell in its raw bands, (actual - centre) / scale of
    the log return, for the model's band and the volatility baseline's."""

    sessions: int  # scored sessions they come from
    model: np.ndarray
    baseline: np.ndarray


def band_scores(
    conn: Connection, model_name: str, model_version: int, as_of: date, sessions: int
) -> BandScores:
    """The scores of the version's forecasts with bands on its newest `sessions` scored target
    dates up to as_of (reads only those rows)."""
    rows = conn.execute(
        """
        WITH recent AS (
            SELECT DISTINCT target_date FROM model_performance_log
            WHERE model_name = %(model)s AND model_version = %(version)s
              AND target_date <= %(as_of)s AND interval_scale IS NOT NULL
            ORDER BY target_date DESC LIMIT %(sessions)s)
        SELECT (SELECT count(*) FROM recent),
               (actual_log_return - interval_centre) / interval_scale,
               (actual_log_return - baseline_centre) / baseline_scale
        FROM model_performance_log
        WHERE model_name = %(model)s AND model_version = %(version)s
          AND target_date >= (SELECT min(target_date) FROM recent)
          AND target_date <= %(as_of)s
          AND interval_scale IS NOT NULL AND baseline_scale IS NOT NULL
        """,
        {"model": model_name, "version": model_version, "as_of": as_of, "sessions": sessions},
    ).fetchall()
    found = np.array([row[1:] for row in rows], np.float64).reshape(-1, 2)
    return BandScores(int(rows[0][0]) if rows else 0, found[:, 0], found[:, 1])


def latest_predictions(conn: Connection, model_name: str) -> list[dict[str, Any]]:
    """The newest target date's forecast per ticker (the newest version's when several made one),
    with the actual close and errors where the day is scored."""
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            f"""
            SELECT DISTINCT ON (p.ticker) {_WITH_OUTCOME} FROM predictions AS p
            LEFT JOIN model_performance_log AS s USING (target_date, ticker, model_name, model_version)
            WHERE p.model_name = %(model)s
              AND p.target_date = (SELECT max(target_date) FROM predictions WHERE model_name = %(model)s)
            ORDER BY p.ticker, p.model_version DESC
            """,
            {"model": model_name},
        )
        return cursor.fetchall()


def ticker_predictions(
    conn: Connection, model_name: str, ticker: str, sessions: int
) -> list[dict[str, Any]]:
    """A ticker's forecasts for its newest `sessions` target dates, oldest first, with outcomes
    (the newest version's where several forecast the same day)."""
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            f"""
            SELECT DISTINCT ON (p.target_date) {_WITH_OUTCOME} FROM predictions AS p
            LEFT JOIN model_performance_log AS s USING (target_date, ticker, model_name, model_version)
            WHERE p.model_name = %(model)s AND p.ticker = %(ticker)s AND p.target_date IN (
                SELECT DISTINCT target_date FROM predictions
                WHERE model_name = %(model)s AND ticker = %(ticker)s
                ORDER BY target_date DESC LIMIT %(sessions)s)
            ORDER BY p.target_date, p.model_version DESC
            """,
            {"model": model_name, "ticker": ticker, "sessions": sessions},
        )
        return cursor.fetchall()


def latest_scored_date(conn: Connection, model_name: str) -> date | None:
    row = conn.execute(
        "SELECT max(target_date) FROM model_performance_log WHERE model_name = %s", (model_name,)
    ).fetchone()
    return row[0] if row else None


_WITH_OUTCOME = """
    p.target_date, p.ticker, p.model_version, p.predicted_close, p.predicted_log_return,
    p.last_close, p.last_close_date, s.actual_close, s.abs_error, s.pct_error, s.direction_hit,
    s.persistence_abs_error, p.quantile_levels, p.predicted_quantiles, p.baseline_quantiles
"""
