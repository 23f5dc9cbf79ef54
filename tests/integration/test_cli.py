"""The CLI as a user runs it: embedded database from nothing, summaries, errors and exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.bad_inputs import write_catalogue
from tests.integration.cli import local_stores_env, run, tickcast_env

SYNTHETIC_20 = ("ingest", "--source", "synthetic", "--tickers", "20", "--start", "2015-01-01")


@pytest.mark.slow(seconds=20)
def test_embedded_database_from_nothing(tmp_path: Path) -> None:
    env = tickcast_env()
    assert "TICKCAST_DATABASE__URL" not in env

    status = run("db", "status", env=env, cwd=tmp_path)
    assert status.returncode == 1
    assert "not running" in status.stdout

    up = run("db", "up", env=env, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    assert "Embedded PostgreSQL running" in up.stdout
    assert "applied now: 0001_raw_prices, 0002_ingest_runs" in up.stdout.replace("\n", "")
    try:
        ingest = run(*SYNTHETIC_20, env=env, cwd=tmp_path)
        assert ingest.returncode == 0, ingest.stderr
        assert ": succeeded" in ingest.stdout
        assert "SYN019" in ingest.stdout
        assert "20 tickers in" in ingest.stdout

        again = run(*SYNTHETIC_20, env=env, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert again.stdout.count("unchanged") == 20

        running = run("db", "status", env=env, cwd=tmp_path)
        assert running.returncode == 0
        assert f"{tmp_path}/.tickcast/pg: running" in running.stdout.replace("\n", "")
    finally:
        down = run("db", "down", env=env, cwd=tmp_path)
    assert down.returncode == 0
    assert "stopped" in down.stdout
    assert run("db", "status", env=env, cwd=tmp_path).returncode == 1


@pytest.mark.slow
def test_default_configuration_ingests_the_shipped_sample_from_any_folder(
    database_url: str, stocknet_dir: Path
) -> None:
    """The repository's own config, no --path: the sample data, from the root or a subfolder."""
    env = tickcast_env(database_url)
    del env["TICKCAST_CONFIG"]
    tickers = sorted(path.stem for path in stocknet_dir.glob("*.csv"))
    root = stocknet_dir.parents[2]
    first = run("ingest", env=env, cwd=root)
    assert first.returncode == 0, first.stderr
    assert f"{len(tickers)} tickers in" in first.stdout
    assert all(ticker in first.stdout for ticker in tickers)
    again = run("ingest", env=env, cwd=root / "src/tickcast")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("unchanged") == len(tickers)


def test_rejected_tickers_are_listed_and_strict_fails(database_url: str, tmp_path: Path) -> None:
    catalogue = write_catalogue(tmp_path / "prices")
    env = tickcast_env(database_url)
    tickers = ",".join(case.ticker for case in catalogue if case.status != "ignored")
    args = ("ingest", "--source", "csv", "--path", str(tmp_path / "prices"), "--tickers", tickers)

    lenient = run(*args, env=env)
    assert lenient.returncode == 0, lenient.stderr
    assert ": partial" in lenient.stdout
    assert "NANCLOSE row 7: [not null] close is missing" in lenient.stderr
    assert "UNKNOWN: [source] unknown ticker: no file UNKNOWN.csv" in lenient.stderr

    strict = run(*args, "--strict", env=env)
    assert strict.returncode == 1


def test_bad_configuration_exits_2_naming_the_key(database_url: str) -> None:
    result = run("ingest", env=tickcast_env(database_url, TICKCAST_DATA__SOURCE="bloomberg"))
    assert result.returncode == 2
    assert "error (config)" in result.stderr
    assert "data.source: Input should be 'csv', 'synthetic' or 'yfinance'" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_exits_3(tmp_path: Path) -> None:
    env = tickcast_env(
        f"postgresql://nobody@/none?host={tmp_path}",
        TICKCAST_DATABASE__CONNECT_RETRIES="1",
        TICKCAST_DATABASE__CONNECT_BACKOFF_SECONDS="0.01",
    )
    result = run("db", "migrate", env=env)
    assert result.returncode == 3
    assert "did not answer after 2 attempts" in result.stderr


def test_dataset_commands(database_url: str, stocknet_dir: Path, tmp_path: Path) -> None:
    env = tickcast_env(
        database_url,
        TICKCAST_ARTIFACTS__ROOT=str(tmp_path / "artifacts"),
        TICKCAST_TICKERS="AAPL,MSFT,XOM,BABA",
    )
    assert run("ingest", "--source", "csv", "--path", str(stocknet_dir), env=env).returncode == 0
    built = run("dataset", "build", env=env)
    assert built.returncode == 0, built.stderr
    dataset_id = next(word for word in built.stdout.split() if word.startswith("ds-"))
    # BABA starts in September 2014, years after the others: kept, from its own first session.
    assert "4 kept, 0 left out" in built.stdout and "samples (ticker-sessions)" in built.stdout
    assert re.search(r"BABA +2014-09-19 +2017-09-01 +\d+ +\d+", built.stdout), built.stdout
    listed = run("dataset", "list", env=env)
    assert dataset_id in listed.stdout
    shown = run("dataset", "show", dataset_id, env=env)
    assert shown.returncode == 0
    assert "verified against sha256" in shown.stdout.replace("\n", " ")
    missing = run("dataset", "show", "ds-000000000000", env=env)
    assert missing.returncode == 6
    assert "error (dataset not found)" in missing.stderr


@pytest.mark.slow(seconds=40)
def test_retrain_and_model_commands(database_url: str, stocknet_dir: Path, tmp_path: Path) -> None:
    env = local_stores_env(
        database_url,
        tmp_path,
        TICKCAST_TICKERS="AAPL,MSFT,XOM",
        TICKCAST_DATASET__SEQUENCE_LENGTH="10",
        TICKCAST_TUNING__MAX_EPOCHS="1",
    )
    assert run("ingest", "--source", "csv", "--path", str(stocknet_dir), env=env).returncode == 0
    retrained = run(
        "retrain",
        "--epochs",
        "1",
        "--trials",
        "2",
        "--backend",
        "optuna",
        env={**env, "COLUMNS": "200"},
        timeout=300,
    )
    assert retrained.returncode == 0, retrained.stderr
    flat = " ".join(retrained.stdout.split())
    assert "registered tickcast-forecaster v1" in flat
    assert "promoted (bootstrap)" in flat and "production: none -> v1" in flat
    assert "search on ds-" in flat and "2 trials with optuna" in flat
    # Three tickers a session: the cross-sectional figures exist for the model, not persistence.
    # Each figure with the sessions it rests on; persistence's equal forecasts: not judged.
    assert re.search(r"rank IC -?\d\.\d{3} \(t -?\d+\.\d; (\d+)/\d+ sessions\)", flat), flat
    persistence = next(line for line in retrained.stdout.splitlines() if "│ persistence" in line)
    assert re.search(r"│ not judged: \d+/\d+ sessions.*│ +not judged │", persistence), persistence
    listed = run("model", "list", env={**env, "COLUMNS": "200"})
    assert "rank IC (t)" in listed.stdout
    assert re.search(
        r"\* v1 .*│ +-?\d\.\d{3} \(t -?\d+\.\d; \d+/\d+ sessions\) │", listed.stdout
    ), listed.stdout
    assert "* v1" in listed.stdout
    assert "* production (the 'production' alias)" in " ".join(listed.stdout.split())
    tuned = run("tune", "--trials", "1", "--backend", "optuna", env=env, timeout=300)
    assert tuned.returncode == 0, tuned.stderr
    assert "1 trials with optuna" in " ".join(tuned.stdout.split())
    predicted = run("predict", "--as-of", "2017-09-01", env={**env, "COLUMNS": "200"})
    assert predicted.returncode == 0, predicted.stderr
    assert "forecasts for 2017-09-05" in predicted.stdout
    assert re.search(r"median ┃ +10%\.\.90% band ┃ +baseline band", predicted.stdout)
    shown = re.findall(
        r"│ +([\d.]+) │ +([\d.]+)\.\.([\d.]+) │ +[\d.]+\.\.[\d.]+ │", predicted.stdout
    )
    assert shown and all(float(lo) <= float(m) <= float(hi) for m, lo, hi in shown), shown
    for command in (retrained, listed, tuned, predicted):  # no third-party warning reaches a user
        assert "Warning" not in command.stdout + command.stderr, command.stderr
    refused = run("model", "rollback", env=env)
    assert refused.returncode == 8
    assert "nothing to roll back to" in " ".join(refused.stderr.split())


@pytest.mark.slow(seconds=15)
def test_daily_bootstraps_then_predicts(database_url: str, tmp_path: Path) -> None:
    env = local_stores_env(
        database_url,
        tmp_path,
        TICKCAST_DATA__SOURCE="synthetic",
        TICKCAST_DATA__SYNTHETIC__N_TICKERS="4",
        TICKCAST_DATA__SYNTHETIC__START="2016-01-04",
        TICKCAST_DATASET__SEQUENCE_LENGTH="10",
        TICKCAST_TRAINING__MAX_EPOCHS="1",
    )
    first = run("daily", "--as-of", "2017-06-30", "--retrain", "--no-search", env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    flat = " ".join(first.stdout.split())
    assert "no production model: nothing to predict" in flat
    assert "decision as of 2017-06-30: retrain (bootstrap)" in flat
    assert "candidate v1 promoted" in flat

    second = run("daily", "--as-of", "2017-07-03", env=env, timeout=300)
    assert second.returncode == 0, second.stderr
    flat = " ".join(second.stdout.split())
    assert "forecasts for 2017-07-05" in flat  # Monday 3rd -> Wednesday 5th (4th: holiday)
    assert "decision as of 2017-07-03: keep" in flat
    assert "too few scored sessions" in flat
