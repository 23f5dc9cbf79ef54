"""Shared fixtures: a throwaway PostgreSQL for the session, a fresh database per test, test data."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tickcast.config import Settings
from tickcast.db import embedded

REPO_ROOT = Path(__file__).resolve().parents[1]
STOCKNET_DIR = REPO_ROOT / "data/sample/stocknet"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest first: with parallel workers the long tests start earliest and the short ones
    fill the gaps at the end. `slow(seconds=N)` says about how long a slow test takes."""

    def expected_seconds(item: pytest.Item) -> float:
        marker = item.get_closest_marker("slow")
        return 0.0 if marker is None else float(marker.kwargs.get("seconds", 10))

    items.sort(key=expected_seconds, reverse=True)


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment() -> Iterator[None]:
    """Tests see no TICKCAST_* variables and no repository config file."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("TICKCAST_")}
    for key in saved:
        if key != "TICKCAST_TEST_DATABASE_URL":
            del os.environ[key]
    os.environ["TICKCAST_CONFIG"] = str(REPO_ROOT / "tests/data/empty.yaml")
    yield
    os.environ.pop("TICKCAST_CONFIG", None)
    os.environ.update(saved)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """$TICKCAST_TEST_DATABASE_URL, or an embedded PostgreSQL started for this test session."""
    external = os.environ.get("TICKCAST_TEST_DATABASE_URL")
    if external:
        yield external
        return
    directory = tmp_path_factory.mktemp("postgres") / "pgdata"
    server = embedded.start(directory)
    with psycopg.connect(server.url, autocommit=True) as admin:
        # A throwaway server: nothing in it must survive a crash, so it waits on no disk flush
        # (each test creates and drops a database; under a loaded disk each flush took seconds).
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            admin.execute(f"ALTER SYSTEM SET {setting} = off")
        admin.execute("SELECT pg_reload_conf()")
    try:
        yield server.url
    finally:
        embedded.stop(directory)
        shutil.rmtree(directory, ignore_errors=True)


def _throwaway_database(server_url: str) -> Iterator[str]:
    name = f"tickcast_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    params = conninfo_to_dict(server_url)
    params["dbname"] = name
    yield make_conninfo(**params)  # type: ignore[arg-type]
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(server_url: str) -> Iterator[str]:
    """A fresh, empty database per test, dropped afterwards."""
    yield from _throwaway_database(server_url)


@pytest.fixture
def second_database_url(server_url: str) -> Iterator[str]:
    """Another fresh, empty database, for tests that compare two stores."""
    yield from _throwaway_database(server_url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the per-test database, with fast connect retries."""
    return Settings(
        database={"url": database_url, "connect_retries": 2, "connect_backoff_seconds": 0.1},
        artifacts={"root": str(tmp_path / "artifacts")},
    )


@pytest.fixture(scope="session")
def stocknet_dir() -> Path:
    return STOCKNET_DIR


def copy_stocknet(tickers: list[str], directory: Path) -> Path:
    """A writable directory holding the stocknet CSVs of `tickers`."""
    directory.mkdir(parents=True, exist_ok=True)
    for ticker in tickers:
        shutil.copyfile(STOCKNET_DIR / f"{ticker}.csv", directory / f"{ticker}.csv")
    return directory
