from concurrent.futures import ThreadPoolExecutor
from datetime import date

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tickcast.db.connection import connect
from tickcast.db.forecasts import score_predictions
from tickcast.db.migrate import (
    MIGRATION_LOCK_KEY,
    MigrationError,
    apply_migrations,
    available_migrations,
    ensure_schema,
)


def test_applies_every_migration_once(database_url: str) -> None:
    with connect(database_url) as conn:
        first = apply_migrations(conn)
        second = apply_migrations(conn)
        recorded = conn.execute(
            "SELECT version, name FROM schema_migrations ORDER BY version"
        ).fetchall()
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
    names = [f"{m.version:04d}_{m.name}" for m in available_migrations()]
    assert first.applied == names
    assert second.applied == []
    assert [f"{v:04d}_{n}" for v, n in recorded] == names
    assert {"raw_prices", "ingest_runs", "schema_migrations"} <= tables


def test_concurrent_runs_apply_each_migration_exactly_once(database_url: str) -> None:
    def migrate() -> list[str]:
        with connect(database_url) as conn:
            return apply_migrations(conn).applied

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: migrate(), range(4)))
    applied = [name for result in results for name in result]
    assert sorted(applied) == sorted(f"{m.version:04d}_{m.name}" for m in available_migrations())
    with connect(database_url) as conn:
        count = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert count == (len(available_migrations()),)


def test_an_up_to_date_database_is_read_without_the_lock(database_url: str) -> None:
    """Every step of a run checks the schema; only the first, on a database behind, may wait
    for the migration lock: here another holds it and the checks still return at once."""
    with connect(database_url) as conn:
        apply_migrations(conn)
    with connect(database_url) as holder, holder.transaction():
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        with connect(database_url) as conn:
            conn.execute("SET lock_timeout = '1s'")
            assert apply_migrations(conn).applied == []
            ensure_schema(conn)
        with connect(database_url) as conn:  # a pending migration still waits for the lock
            conn.execute("SET lock_timeout = '1s'")
            conn.execute("DELETE FROM schema_migrations WHERE version = 1")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                apply_migrations(conn)


def test_edited_migration_is_refused(database_url: str) -> None:
    with connect(database_url) as conn:
        apply_migrations(conn)
        conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        with pytest.raises(
            MigrationError, match=r"0001_raw_prices\.sql changed after it was applied"
        ):
            apply_migrations(conn)


def test_newer_database_is_refused(database_url: str) -> None:
    with connect(database_url) as conn:
        apply_migrations(conn)
        conn.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 'x')")
        with pytest.raises(MigrationError, match=r"\[9999\].*newer version"):
            apply_migrations(conn)


def test_schema_rejects_impossible_prices(database_url: str) -> None:
    with connect(database_url) as conn:
        apply_migrations(conn)
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO raw_prices (ticker, trade_date, open, high, low, close, adj_close, volume, source)"
                " VALUES ('X', '2017-01-03', 1, 1, 2, 1, 1, 1, 'test')"
            )


def test_sentence_reasons_become_structured_reasons(database_url: str) -> None:
    """Decisions stored before reasons had a rule id keep their sentences and get the rule their
    wording names (migration 0009, run again here over rows written the old way)."""
    [structured] = [m for m in available_migrations() if m.name == "structured_decision_reasons"]
    old = [
        "cool-down: retraining decided on 2017-06-27 (3 sessions ago)",
        "rolling MAPE 3.10% > 2.50%",
        "model age 124 sessions > 60 (its data ends 2017-01-03)",
        "something else",
    ]
    with connect(database_url) as conn:
        apply_migrations(conn)
        conn.execute(
            "INSERT INTO retrain_decisions (as_of, model_name, decision, bootstrap, reasons,"
            " metrics) VALUES ('2017-06-30', 'm', 'keep', false, %s, '{}')",
            (Jsonb(old),),
        )
        conn.execute(structured.sql)
        [(reasons,)] = conn.execute("SELECT reasons FROM retrain_decisions").fetchall()
    assert [r["message"] for r in reasons] == old
    assert [r["rule"] for r in reasons] == [
        "cooldown_sessions",
        "max_mape",
        "max_model_age_sessions",
        "unknown",
    ]
    assert all(r["threshold"] is None and r["observed"] is None for r in reasons)


def test_forecasts_scored_before_the_pending_index_stay_scored(database_url: str) -> None:
    """Migration 0012 marks forecasts that already have a score; scoring then reads only the
    pending ones, scores each once, and a forecast whose close is missing keeps waiting."""
    with connect(database_url) as conn:
        for migration in available_migrations():
            if migration.name == "pending_predictions":
                conn.execute(
                    "INSERT INTO raw_prices VALUES"
                    " ('A', '2017-07-05', 10, 11, 9, 10.5, 10.5, 100, 't'),"
                    " ('A', '2017-07-06', 10, 11, 9, 10.2, 10.2, 100, 't')"
                )
                for day in ("2017-07-05", "2017-07-06", "2017-07-07"):
                    conn.execute(
                        "INSERT INTO predictions (target_date, ticker, model_name, model_version,"
                        " run_id, dataset_id, predicted_log_return, predicted_close, last_close,"
                        " last_close_date) VALUES (%s, 'A', 'm', 1, 'r', 'd', 0.01, 10.1, 10,"
                        " '2017-07-03')",
                        (day,),
                    )
                scored_before = (
                    "INSERT INTO model_performance_log (target_date, ticker, model_name,"
                    " model_version, actual_close, predicted_close, last_close,"
                    " predicted_log_return, actual_log_return, abs_error, pct_error,"
                    " direction_hit, persistence_abs_error) VALUES ('2017-07-05', 'A', 'm', 1,"
                    " 10.5, 10.1, 10, 0.01, 0.05, 0.4, 3.8, true, 0.5)"
                )
                conn.execute(scored_before)
            conn.execute(migration.sql)
        marked = conn.execute("SELECT target_date::text, scored FROM predictions ORDER BY 1")
        assert marked.fetchall() == [
            ("2017-07-05", True),
            ("2017-07-06", False),
            ("2017-07-07", False),
        ]
        assert score_predictions(conn, "m", date(2017, 7, 7)) == 1  # the 6th; the 7th waits
        assert score_predictions(conn, "m", date(2017, 7, 7)) == 0
        pending = conn.execute("SELECT target_date::text FROM predictions WHERE NOT scored")
        assert pending.fetchall() == [("2017-07-07",)]


def test_db_status_names_migrations_this_tickcast_does_not_know(database_url: str) -> None:
    from typer.testing import CliRunner

    from tickcast.cli.app import app

    env = {"TICKCAST_DATABASE__URL": database_url, "COLUMNS": "200"}
    with connect(database_url) as conn:
        apply_migrations(conn)
    fine = CliRunner().invoke(app, ["db", "status"], env=env)
    assert fine.exit_code == 0 and "up to date" in fine.output, fine.output
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'later', 'x')"
        )
    newer = CliRunner().invoke(app, ["db", "status"], env=env)
    assert newer.exit_code == 4
    assert "migrations [999] this tickcast does not know" in " ".join(newer.output.split())
