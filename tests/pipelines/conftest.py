"""kfp.local set up for the pipeline and component tests: the steps run as subprocesses of this
Python and read their settings from the environment set here."""

from __future__ import annotations

from pathlib import Path

import pytest
from kfp import local

from tests.stores import mlflow_store


@pytest.fixture
def environment(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The components run as subprocesses: they read their settings from the environment."""
    for key, value in {
        "TICKCAST_DATABASE__URL": database_url,
        "TICKCAST_ARTIFACTS__ROOT": str(tmp_path / "artifacts"),
        "TICKCAST_MLFLOW__TRACKING_URI": mlflow_store(tmp_path),
        "TICKCAST_DATA__SOURCE": "synthetic",
        "TICKCAST_DATA__SYNTHETIC__N_TICKERS": "4",
        "TICKCAST_DATA__SYNTHETIC__START": "2016-01-04",
        "TICKCAST_DATASET__SEQUENCE_LENGTH": "10",
        "TICKCAST_TRAINING__MAX_EPOCHS": "1",
        "TICKCAST_TUNING__MAX_EPOCHS": "1",
        "TICKCAST_KFP__LOCAL_ROOT": str(tmp_path / "kfp"),
    }.items():
        monkeypatch.setenv(key, value)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "kfp"))
    return tmp_path / "kfp"
