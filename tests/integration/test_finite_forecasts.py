"""No forecast holding NaN or an infinity is ever stored: the table refuses it (PostgreSQL sorts
NaN above every number, so `predicted_close > 0` let it in), and the migration that adds the rule
first removes such rows from an existing store, saying how many."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import pytest

from tickcast.db.connection import connect
from tickcast.db.forecasts import upsert_predictions
from tickcast.db.migrate import apply_migrations


def forecast(ticker: str, **values: Any) -> dict[str, Any]:
    return {
        "target_date": date(2017, 6, 30),
        "ticker": ticker,
        "model_name": "m",
        "model_version": 1,
        "run_id": "r",
        "dataset_id": "d",
        "predicted_log_return": 0.01,
        "predicted_close": 101.0,
        "last_close": 100.0,
        "last_close_date": date(2017, 6, 29),
        "quantile_levels": [0.1, 0.9],
        "predicted_quantiles": [97.0, 104.0],
        "baseline_quantiles": [96.0, 105.0],
        "interval_centre": 0.0,
        "interval_scale": 0.01,
        **values,
    }


@pytest.mark.parametrize(
    "values",
    [
        {"predicted_close": float("nan")},
        {"predicted_log_return": float("nan")},
        {"predicted_close": float("inf")},
        {"predicted_quantiles": [97.0, float("nan")]},
        {"baseline_quantiles": [float("-inf"), 105.0]},
        {"interval_scale": float("nan")},
    ],
)
def test_a_forecast_that_is_no_number_is_refused(database_url: str, values: dict[str, Any]) -> None:
    with connect(database_url) as conn:
        apply_migrations(conn)
        with pytest.raises(psycopg.errors.CheckViolation, match="predictions_finite"):
            upsert_predictions(conn, [forecast("AAA", **values)])
        assert upsert_predictions(conn, [forecast("AAA")]) == 1  # a finite one is stored


def test_the_migration_removes_stored_nan_forecasts_and_says_so(database_url: str) -> None:
    with connect(database_url) as conn:
        apply_migrations(conn)
        # The store as it was before the rule: NaN forecasts got in.
        conn.execute("ALTER TABLE predictions DROP CONSTRAINT predictions_finite")
        conn.execute("DELETE FROM schema_migrations WHERE name = 'finite_forecasts'")
        upsert_predictions(
            conn,
            [
                forecast("BAD", predicted_close=float("nan"), predicted_log_return=float("nan")),
                forecast("BAND", predicted_quantiles=[float("nan"), 104.0]),
                forecast("GOOD"),
            ],
        )
        result = apply_migrations(conn)
        assert result.applied == ["0017_finite_forecasts"]
        assert result.notices == [
            "removed 2 stored forecasts holding NaN or an infinity (and their scores)"
        ]
        stored = conn.execute("SELECT ticker FROM predictions").fetchall()
    assert stored == [("GOOD",)]
