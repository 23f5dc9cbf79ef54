"""Retention: `tickcast gc` deletes the arrays of dataset versions no kept model needs (a dry
run first lists them with their size), keeps production's and the newest, and a collected
version built again comes back whole; old Ray and kfp.local folders go, fresh ones stay."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import pytest

from tests.stores import mlflow_store
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.features.dataset import DatasetIntegrityError, build_dataset, load_dataset
from tickcast.ops.evaluate import evaluate
from tickcast.ops.gc import collect
from tickcast.ops.promote import promote
from tickcast.ops.train_candidate import train_candidate
from tickcast.ops.tune import local_search_storage

pytestmark = pytest.mark.slow(seconds=30)
DAYS = [date(2017, 3, 31), date(2017, 4, 28), date(2017, 5, 31)]


def test_gc_collects_what_no_kept_model_needs_and_a_rebuild_brings_it_back(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings.model_validate(
        {
            "database": {"url": database_url, "connect_retries": 1},
            "artifacts": {"root": str(tmp_path / "artifacts")},
            "mlflow": {"tracking_uri": mlflow_store(tmp_path)},
            "kfp": {"local_root": str(tmp_path / "kfp")},
            "data": {"source": "synthetic", "synthetic": {"n_tickers": 4, "start": "2016-01-04"}},
            "dataset": {"sequence_length": 10},
            "training": {"max_epochs": 1, "params": {"family": "ridge"}},
            "retention": {"dataset_days": 0, "results_days": 1, "keep_promoted": 1},
        }
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
