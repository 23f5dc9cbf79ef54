"""Upgrades that keep the data: a database at every earlier schema version, with rows in every
table that version has (a NaN forecast among them, for migration 0017 to remove), migrates to
head with its rows kept, ends with exactly the schema a new database gets, and then runs the
daily pipeline (a bootstrap retrain included)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.stores import mlflow_store
from tickcast.config import Settings
from tickcast.db.connection import Connection, connect
from tickcast.db.migrate import apply_migrations, available_migrations
from tickcast.orchestration.runner import run_daily

pytestmark = pytest.mark.slow(seconds=30)
MIGRATIONS = available_migrations()
HEAD = MIGRATIONS[-1].version
FINITE_FORECASTS = next(m.version for m in MIGRATIONS if m.name == "finite_forecasts")

# Rows each table gets from the version that creates it on, in that version's columns (later
# migrations add columns with defaults: the same statement stays valid).
ROWS: dict[int, list[str]] = {
    1: [
        "INSERT INTO raw_prices (ticker, trade_date, open, high, low, close, adj_close, volume,"
        " source) VALUES ('OLD', '2016-06-29', 10, 11, 9, 10.5, 10.4, 1000, 'csv'),"
        " ('OLD', '2016-06-30', 10.5, 11, 10, 10.8, 10.7, 1200, 'csv')"
    ],
    2: [
        "INSERT INTO ingest_runs (source, status, tickers_requested) VALUES ('csv', 'succeeded', 1)"
    ],
    3: [
        "INSERT INTO datasets (id, content_sha256, artifact_uri, panel_start, source_start,"
        " source_end, tickers, dropped_tickers, features, dropped_features, horizon,"
        " sequence_length, warmup_sessions, splits, panel_rows, config, report) VALUES"
        " ('ds-old', 'abc', 'file:///old/dataset.npz', '2016-01-04', '2016-03-01', '2016-06-30',"
        " '{OLD}', '{}', '{log_return}', '{}', 1, 10, 30, '{}', 120, '{}', 'old')"
    ],
    4: [
        "INSERT INTO model_promotions (model_name, action, candidate_version, production_after,"
        " promoted, reason) VALUES ('old-model', 'promote', 1, 1, true, 'bootstrap')"
    ],
    5: [
        "INSERT INTO optimization_results (dataset_id, backend, trials, best_params,"
        " best_validation_loss, seconds) VALUES ('ds-old', 'optuna', '[]', '{}', 0.5, 3)"
    ],
    6: [
        "INSERT INTO predictions (target_date, ticker, model_name, model_version, run_id,"
        " dataset_id, predicted_log_return, predicted_close, last_close, last_close_date) VALUES"
        " ('2016-06-30', 'OLD', 'old-model', 1, 'r', 'ds-old', 0.01, 10.6, 10.5, '2016-06-29'),"
        " ('2016-07-01', 'OLD', 'old-model', 1, 'r', 'ds-old', 0.01, 10.9, 10.8, '2016-06-30')",
        "INSERT INTO model_performance_log (target_date, ticker, model_name, model_version,"
        " actual_close, predicted_close, last_close, predicted_log_return, actual_log_return,"
        " abs_error, pct_error, direction_hit, persistence_abs_error) VALUES ('2016-06-30',"
        " 'OLD', 'old-model', 1, 10.8, 10.6, 10.5, 0.01, 0.028, 0.2, 1.9, true, 0.3)",
    ],
    7: [
        "INSERT INTO retrain_decisions (as_of, model_name, decision, reasons, metrics) VALUES"
        " ('2016-06-30', 'old-model', 'keep', '[\"rolling MAPE 1.00% <= 2.50%\"]', '{}')"
    ],
    14: [
        "INSERT INTO price_revisions (run_id, ticker, kind, ratio, compared_from, compared_to,"
        " rows_changed) VALUES ((SELECT min(id) FROM ingest_runs), 'OLD', 'ratio', 0.5,"
        " '2016-06-29', '2016-06-30', 2)"
    ],
    15: [
        "INSERT INTO corporate_actions (ticker, ex_date, kind, value, source) VALUES"
        " ('OLD', '2016-06-30', 'dividend', 0.1, 'csv')",
        "INSERT INTO price_acceptances (ticker, trade_date, note) VALUES ('OLD', '2016-06-30', 'ok')",
    ],
    16: ["INSERT INTO universe_members (ticker, member_from) VALUES ('OLD', '2016-01-04')"],
    19: [
        "INSERT INTO interval_adaptation (model_name, model_version, session, sessions, levels,"
        " model_offsets, baseline_offsets) VALUES ('old-model', 1, '2016-06-30', 1,"
        " '{0.1,0.5,0.9}', '{0,0,0}', '{0,0,0}')"
    ],
}
# A forecast that is no number: stored before 0017 refused it.
NAN_FORECAST = (
    "INSERT INTO predictions (target_date, ticker, model_name, model_version, run_id, dataset_id,"
    " predicted_log_return, predicted_close, last_close, last_close_date) VALUES ('2016-07-05',"
    " 'OLD', 'old-model', 1, 'r', 'ds-old', 'NaN', 'NaN', 10.8, '2016-06-30')"
)
COUNTED = [
    "raw_prices",
    "ingest_runs",
    "datasets",
    "model_promotions",
    "optimization_results",
    "predictions",
    "model_performance_log",
    "retrain_decisions",
    "price_revisions",
    "corporate_actions",
    "price_acceptances",
    "universe_members",
    "interval_adaptation",
]


def at_version(conn: Connection, version: int) -> None:
    """The schema as a tickcast of `version` left it, with rows in every table it has."""
    conn.execute("DROP SCHEMA public CASCADE")
    conn.execute("CREATE SCHEMA public")
    conn.execute(
        "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
        " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    for migration in MIGRATIONS:
        if migration.version > version:
            break
        conn.execute(migration.sql)
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
            (migration.version, migration.name, migration.checksum),
        )
        for statement in ROWS.get(migration.version, []):
            conn.execute(statement)
        if migration.version == 6 and version < FINITE_FORECASTS:
            conn.execute(NAN_FORECAST)


def counts(conn: Connection) -> dict[str, int]:
    found = {}
    for table in COUNTED:
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
        if exists and exists[0]:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            found[table] = int(row[0]) if row else 0
    return found


def schema(conn: Connection) -> dict[str, Any]:
    """Columns, constraints, indexes and triggers of schema public, comparable across databases."""
    queries = {
        "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default"
        " FROM information_schema.columns WHERE table_schema = 'public'",
        "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
        " FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
        "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
        "triggers": "SELECT event_object_table, trigger_name, event_manipulation, action_statement"
        " FROM information_schema.triggers WHERE trigger_schema = 'public'",
    }
    return {name: sorted(conn.execute(query).fetchall()) for name, query in queries.items()}


def test_every_earlier_schema_version_migrates_with_its_data(
    database_url: str, second_database_url: str, tmp_path: Any
) -> None:
    with connect(second_database_url) as fresh:
        apply_migrations(fresh)
        expected_schema = schema(fresh)
    with connect(database_url) as conn:
        for version in range(1, HEAD):
            at_version(conn, version)
            before = counts(conn)
            result = apply_migrations(conn)
            assert result.applied == [
                f"{m.version:04d}_{m.name}" for m in MIGRATIONS if m.version > version
            ]
            after = counts(conn)
            if version < FINITE_FORECASTS and version >= 6:
                assert any("removed 1 stored forecasts" in n for n in result.notices), result
                before["predictions"] -= 1  # the NaN one, and only it
            assert {t: after[t] for t in before} == before, version
            assert schema(conn) == expected_schema, version
            kept = conn.execute("SELECT adj_close FROM raw_prices ORDER BY trade_date").fetchall()
            assert kept == [(10.4,), (10.7,)]
            if version >= 7:  # a sentence stored before reasons had rule ids got its rule
                [(reasons,)] = conn.execute("SELECT reasons FROM retrain_decisions").fetchall()
                assert reasons[0]["rule"] == "max_mape" and reasons[0]["message"].startswith(
                    "rolling"
                )

    # A database of version 6 (the first with forecasts, a NaN one among them), upgraded, runs a
    # day: a bootstrap retrain on a synthetic market beside the old rows (another model, another
    # ticker), which it leaves as they were.
    with connect(database_url) as conn:
        at_version(conn, 6)
        apply_migrations(conn)
    settings = Settings.model_validate(
        {
            "database": {"url": database_url, "connect_retries": 1},
            "artifacts": {"root": str(tmp_path / "artifacts")},
            "mlflow": {"tracking_uri": mlflow_store(tmp_path)},
            "tickers": ["SYN000", "SYN001", "SYN002"],
            "data": {"source": "synthetic", "synthetic": {"n_tickers": 3, "start": "2016-01-04"}},
            "dataset": {"sequence_length": 10},
            "training": {"max_epochs": 1, "params": {"family": "ridge"}},
        }
    )
    day = run_daily(settings, date(2017, 6, 30), retrain_when_decided=True, search=False)
    assert day.decision.bootstrap and day.retraining is not None
    assert day.retraining.promotion.promoted
    with connect(database_url) as conn:
        assert counts(conn)["raw_prices"] > 2
        old = conn.execute("SELECT count(*) FROM predictions WHERE model_name = 'old-model'")
        assert old.fetchone() == (2,)
