import os
import tempfile
from pathlib import Path

import pytest

from tickcast.config import Settings
from tickcast.ops.tune import local_search_storage


def test_with_an_object_store_the_search_state_stays_out_of_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pod's working directory (/app) is not writable by its user: Ray's local state goes to
    a per-user temporary folder instead (#16, defect 1)."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    app = tmp_path / "app"
    app.mkdir()
    monkeypatch.chdir(app)
    path = local_search_storage(Settings(artifacts={"root": "s3://bucket/tickcast"}))
    assert path == tmp_path / "tmp" / f"tickcast-{os.getuid()}" / "ray"
    assert path.is_dir() and list(app.iterdir()) == []

    local = Settings(artifacts={"root": str(tmp_path / "artifacts")})
    assert local_search_storage(local) == tmp_path / "artifacts" / "ray"


def test_trials_on_a_ray_cluster_ask_for_gpus_even_before_any_is_up() -> None:
    """GPU workers scaled to zero start only for trials that ask for GPUs (#16, defect 8)."""
    from tickcast.config import TuningSettings
    from tickcast.training.tune import trial_gpus

    cluster = TuningSettings(ray_address="ray://tickcast-ray-head-svc:10001", gpus_per_trial=0.5)
    assert trial_gpus(cluster, {"CPU": 2.0}) == 0.5  # only the CPU head is up
    local = TuningSettings(gpus_per_trial=0.5)
    assert trial_gpus(local, {"CPU": 2.0}) == 0.0
    assert trial_gpus(local, {"CPU": 2.0, "GPU": 1.0}) == 0.5
