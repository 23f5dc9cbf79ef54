"""Retention: `tickcast gc` deletes the arrays of dataset versions no kept model needs (a dry
run first lists them with their size), keeps production's and the newest, and a collected
version built again comes back whole; old Ray and kfp.local folders go, fresh ones stay."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException

from tests.stores import mlflow_store
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.features.dataset import DatasetIntegrityError, build_dataset, load_dataset
from tickcast.ops.evaluate import evaluate
from tickcast.ops.gc import collect
from tickcast.ops.promote import promote, promote_manually, rollback
from tickcast.ops.train_candidate import train_candidate
from tickcast.ops.tune import local_search_storage
from tickcast.registry.errors import PromotionError
from tickcast.registry.tracking import configure_mlflow

pytestmark = pytest.mark.slow(seconds=30)
DAYS = [date(2017, 3, 31), date(2017, 4, 28), date(2017, 5, 31)]


def configured(database_url: str, folder: Path, retention: dict[str, float]) -> Settings:
    """A synthetic market of four tickers, ridge models, stores under `folder`."""
    return Settings.model_validate(
        {
            "database": {"url": database_url, "connect_retries": 1},
            "artifacts": {"root": str(folder / "artifacts")},
            "mlflow": {"tracking_uri": mlflow_store(folder)},
            "kfp": {"local_root": str(folder / "kfp")},
            "data": {"source": "synthetic", "synthetic": {"n_tickers": 4, "start": "2016-01-04"}},
            "dataset": {"sequence_length": 10},
            "training": {"max_epochs": 1, "params": {"family": "ridge"}},
            "retention": retention,
        }
    )


def test_gc_collects_what_no_kept_model_needs_and_a_rebuild_brings_it_back(
    database_url: str, tmp_path: Path
) -> None:
    settings = configured(
        database_url, tmp_path, {"dataset_days": 0, "results_days": 1, "keep_promoted": 1}
    )
    versions = []
    for day in DAYS:
        ingest_prices(settings, end=day)
        versions.append(build_dataset(settings, day))
        if day == DAYS[0]:  # production trained on the first
            trained = train_candidate(settings, versions[0].id)
            assert promote(settings, evaluate(settings, trained.model_version)).promoted
    used, spare, newest = versions
    spare_file = Path(spare.artifact_uri.removeprefix("file://"))
    old_run = tmp_path / "kfp" / "old-run"
    (old_run / "task").mkdir(parents=True)
    (old_run / "task" / "output.json").write_text("{}" * 1000)
    fresh_run = tmp_path / "kfp" / "fresh-run"
    fresh_run.mkdir()
    old_search = local_search_storage(settings) / "tune-ds-old"
    old_search.mkdir(parents=True)
    (old_search / "result.json").write_text("{}")
    two_days_ago = time.time() - 2 * 86_400
    for path in (
        old_run,
        old_run / "task",
        old_run / "task" / "output.json",
        old_search,
        old_search / "result.json",
    ):
        os.utime(path, (two_days_ago, two_days_ago))

    planned = collect(settings, dry_run=True)
    assert planned.kept_versions == [1]
    assert {
        (c.kind, Path(c.what).name if c.kind != "dataset" else c.what) for c in planned.collected
    } == {
        ("dataset", spare.id),
        ("kfp.local run", "old-run"),
        ("search results", "tune-ds-old"),
    }
    assert planned.bytes > spare_file.stat().st_size > 0 and spare_file.exists()
    assert old_run.exists()

    done = collect(settings)
    assert [c.what for c in done.collected] == [c.what for c in planned.collected]
    assert not spare_file.exists() and not old_run.exists() and not old_search.exists()
    assert fresh_run.exists()
    load_dataset(settings, used.id)  # production's stays
    load_dataset(settings, newest.id)  # so does the newest
    with pytest.raises(DatasetIntegrityError, match="deleted by retention"):
        load_dataset(settings, spare.id)
    assert collect(settings, dry_run=True).collected == []  # nothing left to take

    again = build_dataset(settings, DAYS[1])  # the same version, written back
    assert again.id == spare.id and again.collected_at is None
    _, arrays = load_dataset(settings, spare.id)  # its hash checks out
    assert arrays.matrix.values.size > 0
    newest_file = Path(newest.artifact_uri.removeprefix("file://"))
    newest_file.unlink()  # lost some other way: asked for again, it is written back too
    assert build_dataset(settings, DAYS[2]).id == newest.id and newest_file.exists()
    load_dataset(settings, newest.id)


def test_gc_archives_old_promoted_versions_and_drops_old_rejected_ones(
    database_url: str, tmp_path: Path
) -> None:
    """v1, v3 and v4 promoted in turn, v2 rejected: with keep_promoted 1, production (v4) and
    the version one rollback returns to (v3) stay whole; v1 is archived (files gone, tagged,
    refused as production) and the rejected v2 is deleted with its run."""
    settings = configured(database_url, tmp_path, {"keep_promoted": 1, "rejected_days": 0})
    ingest_prices(settings, end=DAYS[0])
    dataset = build_dataset(settings, DAYS[0]).id
    versions = [train_candidate(settings, dataset).model_version for _ in range(4)]
    promote_manually(settings, versions[0])
    picky = settings.with_overrides({"promotion": {"min_improvement": 0.99}})
    assert not promote(picky, evaluate(picky, versions[1])).promoted  # rejected
    promote_manually(settings, versions[2])
    promote_manually(settings, versions[3])
    client = configure_mlflow(settings)
    run_files = Path(
        client.get_run(
            client.get_model_version("tickcast-forecaster", str(versions[0])).run_id
        ).info.artifact_uri.removeprefix("file://")
    )
    assert run_files.exists()

    planned = collect(settings, dry_run=True)
    assert planned.kept_versions == [versions[3], versions[2]]
    registry = {(c.kind, c.what) for c in planned.collected if c.kind != "dataset"}
    assert registry == {("archived version", "v1"), ("rejected candidate", "v2")}
    assert all(c.bytes > 0 for c in planned.collected)

    collect(settings)
    assert not run_files.exists()
    archived = client.get_model_version("tickcast-forecaster", str(versions[0]))
    assert "tickcast gc" in archived.tags["tickcast.archived"]
    with pytest.raises(MlflowException):
        client.get_model_version("tickcast-forecaster", str(versions[1]))
    with pytest.raises(PromotionError, match="v1 was archived"):
        promote_manually(settings, versions[0])
    assert rollback(settings).production_after == versions[2]  # the kept rollback still works
    load_dataset(settings, dataset)  # the kept versions' dataset stays
