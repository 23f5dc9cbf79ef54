"""Backups that restore: a store with a production model, forecasts, scores and decisions is
backed up, restored into empty stores elsewhere (another database, MLflow store and artifact
root), and the next daily run — a retrain included — gives there exactly what it gives on the
original (run ids and timestamps aside)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.conftest import _throwaway_database
from tests.deploy.services import s3_server
from tests.integration.cli import local_stores_env, run
from tests.stores import mlflow_store
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.db.connection import connect
from tickcast.db.dump import dump_database
from tickcast.features.dataset import build_dataset
from tickcast.ops.backup import MANIFEST, BackupError, backup, restore
from tickcast.ops.evaluate import evaluate
from tickcast.ops.promote import promote
from tickcast.ops.train_candidate import train_candidate
from tickcast.orchestration.runner import simulate

pytestmark = pytest.mark.slow(seconds=60)
BOOTSTRAP = date(2017, 6, 30)
BEFORE, AFTER = [date(2017, 7, 3), date(2017, 7, 5)], date(2017, 7, 6)


def configured(database_url: str, folder: Path) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": database_url, "connect_retries": 1},
            "artifacts": {"root": str(folder / "artifacts")},
            "mlflow": {"tracking_uri": mlflow_store(folder / "mlflow")},
            "data": {
                "source": "synthetic",
                "synthetic": {"n_tickers": 5, "start": "2016-01-04"},
            },
            "dataset": {"sequence_length": 10},
            "training": {"max_epochs": 1, "params": {"hidden_size": 8}},
            "monitoring": {"window_sessions": 2},
            # Every daily run decides to retrain: the restored registry must take a new version.
            "decision": {"max_mape": 0.001, "min_scored_sessions": 1, "cooldown_sessions": 0},
        }
    )


@pytest.fixture
def elsewhere(server_url: str) -> Iterator[str]:
    yield from _throwaway_database(server_url)


def outcome(settings: Settings, day: date) -> dict[str, Any]:
    """What a daily run left in the store for `day`, without ids and timestamps."""
    with connect(settings.database.url or "") as conn:
        forecasts = conn.execute(
            "SELECT ticker, model_version, predicted_close, predicted_quantiles, "
            "reversal_log_return FROM predictions WHERE target_date > %s ORDER BY ticker",
            (day,),
        ).fetchall()
        scores = conn.execute(
            "SELECT target_date, ticker, abs_error FROM model_performance_log "
            "ORDER BY target_date, ticker"
        ).fetchall()
        decisions = conn.execute(
            "SELECT as_of, decision, reasons FROM retrain_decisions ORDER BY as_of"
        ).fetchall()
        promotions = conn.execute(
            "SELECT action, candidate_version, promoted FROM model_promotions ORDER BY id"
        ).fetchall()
    return {
        "forecasts": forecasts,
        "scores": scores,
        "decisions": decisions,
        "promotions": promotions,
    }


def test_a_restored_backup_runs_the_next_day_as_the_original(
    database_url: str, elsewhere: str, tmp_path: Path
) -> None:
    original = configured(database_url, tmp_path / "original")
    ingest_prices(original, end=BOOTSTRAP)
    first = train_candidate(original, build_dataset(original).id)
    promote(original, evaluate(original, first.model_version))
    simulate(original, BEFORE)

    made = backup(original, str(tmp_path / "backups"))
    assert {f.name for f in made.manifest.files()} == {
        "tickcast.dump",
        "mlflow.db",
        "artifacts.tar.gz",
    }
    assert made.manifest.schema_version >= 19 and made.removed == []

    restored = configured(elsewhere, tmp_path / "restored")
    done = restore(restored, str(tmp_path / "backups"))  # the newest backup there
    assert done.location == made.location
    assert done.relocated > 0  # dataset files, runs and model versions point at the new root

    with pytest.raises(BackupError, match="empty stores: the tickcast database holds data"):
        restore(restored, made.location)

    simulate(original, [AFTER], retrain_when_decided=True)
    there = outcome(original, BEFORE[-1])
    assert there["forecasts"] and there["promotions"][-1][1] == 2  # a new version was trained
    # The original's files are gone, as on a lost disk: the restored stores stand alone.
    shutil.rmtree(tmp_path / "original")
    simulate(restored, [AFTER], retrain_when_decided=True)
    assert outcome(restored, BEFORE[-1]) == there


def test_backups_are_kept_to_a_count_and_checked_before_a_restore(
    database_url: str, elsewhere: str, tmp_path: Path
) -> None:
    settings = configured(database_url, tmp_path / "original")
    ingest_prices(settings, end=date(2016, 3, 31))
    destination = tmp_path / "backups"
    made = [backup(settings, str(destination), keep=2) for _ in range(3)]
    assert made[-1].removed == [made[0].location.rsplit("/", 1)[-1]]
    kept = sorted(p.name for p in destination.iterdir())
    assert kept == [m.location.rsplit("/", 1)[-1] for m in made[1:]]

    dump = Path(made[-1].location) / "tickcast.dump"
    damaged = bytearray(dump.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    dump.write_bytes(bytes(damaged))
    with pytest.raises(BackupError, match=r"tickcast\.dump .* is damaged"):
        restore(configured(elsewhere, tmp_path / "restored"), made[-1].location)

    (Path(made[-1].location) / MANIFEST).unlink()  # an unfinished backup is not a backup
    env = local_stores_env(elsewhere, tmp_path / "restored")
    result = run("db", "restore", str(destination), env=env)
    assert result.returncode == 0, result.stdout + result.stderr  # the newest complete one
    assert made[1].location.rsplit("/", 1)[-1] in result.stdout
    empty = run("db", "restore", str(tmp_path / "nothing"), env=env)
    assert empty.returncode == 12 and "no complete backup" in empty.stderr, empty.stderr
    assert "Traceback" not in empty.stderr


def as_url(conninfo: str) -> str:
    """A test server's key=value connection string as the URL a tracking URI is."""
    params = conninfo_to_dict(conninfo)
    return f"postgresql://{params['user']}@/{params['dbname']}?host={params['host']}"


@pytest.fixture
def mlflow_databases(server_url: str) -> Iterator[list[str]]:
    """Two databases for MLflow's PostgreSQL store: the backed-up one and the restored one."""
    first, second = _throwaway_database(server_url), _throwaway_database(server_url)
    yield [next(first), next(second)]
    for made in (first, second):
        next(made, None)  # dropped


def test_the_charts_way_dumps_made_elsewhere_into_s3_and_back(
    database_url: str, elsewhere: str, mlflow_databases: list[str], tmp_path: Path
) -> None:
    """As the chart's backup job: both databases dumped by the server's own pg_dump (here the
    embedded server's), tickcast writes them to an S3 endpoint (moto's server); a restore from
    there fills empty databases, MLflow's included (a PostgreSQL store, as on the cluster)."""
    settings = configured(database_url, tmp_path / "original")
    ingest_prices(settings, end=date(2016, 3, 31))
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    with connect(database_url) as conn:
        dump_database(conn, database_url, dumps / "tickcast.dump")
    with connect(mlflow_databases[0]) as conn:  # an MLflow database with one row of its own
        conn.execute("CREATE TABLE runs (run_uuid text)")
        conn.execute("INSERT INTO runs VALUES ('a-run')")
        conn.commit()
        dump_database(conn, mlflow_databases[0], dumps / "mlflow.dump")
    (tmp_path / "not-a-dump").mkdir()
    (tmp_path / "not-a-dump" / "tickcast.dump").write_text("SELECT 1;")
    with pytest.raises(BackupError, match="not a pg_dump custom-format archive"):
        backup(settings, str(tmp_path / "b"), dumps=tmp_path / "not-a-dump")

    with (
        pytest.MonkeyPatch.context() as patch,
        s3_server(tmp_path, "k", "s3cret", "tickcast-bk") as s3,
    ):
        for name, value in {
            "AWS_ACCESS_KEY_ID": "k",
            "AWS_SECRET_ACCESS_KEY": "s3cret",
            "AWS_ENDPOINT_URL": s3,
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            patch.setenv(name, value)
        s3_root = settings.with_overrides({"artifacts": {"root": "s3://tickcast-bk/artifacts"}})
        made = backup(s3_root, "s3://tickcast-bk/backups", dumps=dumps)
        assert made.manifest.mlflow_kind == "postgres" and made.manifest.artifacts is None
        assert "assumed durable" in made.manifest.notes[0]
        target = s3_root.with_overrides(
            {
                "database": {"url": elsewhere},
                "mlflow": {"tracking_uri": as_url(mlflow_databases[1])},
            }
        )
        done = restore(target, "s3://tickcast-bk/backups")
    assert done.location == made.location and done.relocated == 0
    with connect(elsewhere) as conn:
        count = conn.execute("SELECT count(*) FROM raw_prices").fetchone()
    with connect(database_url) as conn:
        assert count == conn.execute("SELECT count(*) FROM raw_prices").fetchone()
    with connect(mlflow_databases[1]) as conn:
        assert conn.execute("SELECT run_uuid FROM runs").fetchall() == [("a-run",)]
