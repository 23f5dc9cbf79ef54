import os
import tempfile
from pathlib import Path

import pytest

from tickcast.config import Settings
from tickcast.registry.search import local_search_storage


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
