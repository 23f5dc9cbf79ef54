"""Every command, driven as a careless user would: an unknown option, a bad value, a broken
environment, a database that is down, an empty store. Each ends in its documented exit code
with one line of error, never an uncaught exception (a traceback in a terminal)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from tests.stores import mlflow_store
from tickcast.cli.app import app
from tickcast.cli.context import EXIT_CODES, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_UNEXPECTED

# Arguments a command needs to get past its usage check.
ARGUMENTS: dict[str, list[str]] = {
    "evaluate": ["1"],
    "promote": ["1"],
    "dataset show": ["ds-000000000000"],
    "model show": ["1"],
    "model promote": ["1"],
    "backtest": ["--start", "2017-01-03", "--end", "2017-01-31"],
    "daily": ["--as-of", "2016-06-30"],  # the synthetic market's last session
    "schedule daily": ["--cron", "30 16 * * 1-5"],
    "run daily": ["--local"],
    "run retraining": ["--local"],
    "prices accept": ["AAPL", "2017-01-03"],
    "universe load": ["members.csv"],
    "db backup": ["backups"],
    "db restore": ["backups"],
}
# Exit codes with the database down and with an empty, unmigrated store (None: not run there).
# 0 where the command needs no database for what it does (nothing to predict, no model yet);
# 4 where a reader finds no schema (it says to run `tickcast db migrate`; writers migrate).
EXPECTED: dict[str, tuple[int | None, int | None]] = {
    "ingest": (3, 0),
    "validate": (3, 4),
    "tune": (3, 4),  # no schema yet (readers do not migrate)
    "train": (3, 4),
    "evaluate": (8, 8),  # no such model version
    "promote": (8, 8),
    "retrain": (3, 5),  # no prices to build a dataset from
    "predict": (0, 0),  # no production model: nothing to predict
    "monitor": (3, 0),
    "decide": (3, 0),
    "daily": (3, 0),  # ingests first; no model yet: a bootstrap decision
    "backtest": (3, None),  # on an empty store it runs a whole backtest (tests/integration)
    "config": (0, 0),
    "version": (0, 0),
    "db up": (3, 0),
    "db down": (0, 0),
    "db status": (3, 0),
    "db migrate": (3, 0),
    "db backup": (3, 0),  # an empty store backs up (nothing trained yet: said so)
    "db restore": (12, 0),  # down: no backup there; empty: the one `db backup` just made
    "dataset build": (3, 5),
    "dataset list": (3, 4),
    "dataset show": (3, 4),
    "model list": (0, 0),
    "model show": (8, 8),
    "model promote": (8, 8),
    "model rollback": (8, 8),  # nothing to roll back to
    "run daily": (None, None),  # runs the pipeline (tests/pipelines)
    "run retraining": (None, None),
    "pipelines upload": (10, 10),  # no Kubeflow Pipelines host
    "schedule daily": (10, 10),
    "demo run": (None, None),  # runs the demo (tests/integration/test_demo.py)
    "demo down": (0, 0),
    "serve": (None, None),  # execs bentoml serve (tests/serving)
    "prices accept": (3, 2),  # nothing stored that day to accept
    "universe load": (2, 2),  # no such file (tests/integration/test_universe.py loads one)
    "universe show": (3, 0),  # no universe: today's tickers
    "alerts list": (3, 0),  # migrates, then lists none
    "gc": (3, 0),  # nothing stored: nothing to remove
    "alerts test": (0, 0),  # no webhook configured: said so, nothing to reach
}
# Environments no configuration can be read from.
BROKEN_ENVIRONMENTS = [
    {"TICKCAST_INGEST": "oops"},
    {"TICKCAST_TICKERS": "[1,2"},
    {"TICKCAST_TICKERS": "AAPL,B&Q"},
    {"TICKCAST_DATA__SOURCE": "bloomberg"},
    {"TICKCAST_DATABASE__CONNECT_RETRIES": "-1"},
    {"TICKCAST_MLFLOW": "[not json"},
]


def _leaves(command: Any, path: tuple[str, ...] = ()) -> list[str]:
    if hasattr(command, "commands"):
        return [leaf for n, sub in command.commands.items() for leaf in _leaves(sub, (*path, n))]
    return [" ".join(path)]


COMMANDS = _leaves(typer.main.get_command(app))


def invoke(command: str, *extra: str, env: dict[str, str]) -> Result:
    result = CliRunner().invoke(app, [*command.split(), *extra], env={"COLUMNS": "200", **env})
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not escaped, f"{command}: uncaught {result.exception!r}\n{result.output}"
    return result


def one_error_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error") or "Error" in line]
    assert len(errors) <= 1 or all(line.startswith("  ") for line in lines[1:]), result.stderr
    return " ".join(result.stderr.split())


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A working directory outside any project: no embedded server, no stores to find."""
    monkeypatch.chdir(tmp_path)


def test_the_demo_commands_leave_the_environment_as_they_found_it(tmp_path: Path) -> None:
    """They point the steps and the service they start at the demo's stores through TICKCAST_*
    variables; a command run in-process (a test, a notebook) gets its environment back."""
    before = dict(os.environ)
    result = invoke("demo down", "--workdir", str(tmp_path / "demo"), env={})
    assert result.exit_code == 0 and "nothing was running" in result.output
    assert dict(os.environ) == before


def test_every_command_is_in_the_table() -> None:
    assert sorted(EXPECTED) == sorted(COMMANDS)


def test_the_readme_documents_every_exit_code() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.partition("Exit codes:\n\n")[2].partition("\n\n")[0]
    documented = {int(code) for code in re.findall(r"^\| +(\d+) \| ", table, re.MULTILINE)}
    produced = {*EXIT_CODES.values(), 0, 1, EXIT_UNEXPECTED, EXIT_INTERRUPTED, EXIT_TERMINATED}
    assert documented == produced


@pytest.mark.parametrize("command", COMMANDS)
def test_unknown_option_and_bad_values_are_usage_errors(command: str) -> None:
    unknown = invoke(command, *ARGUMENTS.get(command, []), "--no-such-option", env={})
    assert unknown.exit_code == 2 and "No such option" in unknown.output
    params = typer.main.get_command(app)
    for word in command.split():
        params = params.commands[word]  # type: ignore[attr-defined]
    names = {opt for param in params.params for opt in param.opts}
    for option, value in (("--as-of", "2017-13-45"), ("--epochs", "lots"), ("--trials", "-3")):
        if option in names:
            bad = invoke(command, *ARGUMENTS.get(command, []), option, value, env={})
            assert bad.exit_code == 2, bad.output  # from the option parser or the settings
            assert "Invalid value" in bad.output or "error (config)" in bad.output, bad.output


@pytest.mark.parametrize("environment", BROKEN_ENVIRONMENTS, ids=lambda e: next(iter(e.items()))[1])
def test_a_broken_environment_exits_2_naming_the_variable(environment: dict[str, str]) -> None:
    for command in COMMANDS:
        result = invoke(command, *ARGUMENTS.get(command, []), env=environment)
        if command == "version":
            assert result.exit_code == 0
            continue
        assert result.exit_code == 2, (command, result.output)
        message = one_error_line(result)
        assert message.startswith("error (config):"), (command, message)
        key = next(iter(environment)).removeprefix("TICKCAST_").lower().split("__")[0]
        assert key in message.lower(), (command, message)


@pytest.fixture
def stores(tmp_path: Path) -> dict[str, str]:
    return {
        "TICKCAST_MLFLOW__TRACKING_URI": mlflow_store(tmp_path),
        "TICKCAST_ARTIFACTS__ROOT": str(tmp_path / "artifacts"),
        "TICKCAST_DATA__SOURCE": "synthetic",
        "TICKCAST_DATA__SYNTHETIC__N_TICKERS": "2",
        "TICKCAST_DATA__SYNTHETIC__START": "2016-01-04",
        "TICKCAST_DATA__SYNTHETIC__END": "2016-06-30",
        "TICKCAST_DATABASE__CONNECT_RETRIES": "0",
    }


@pytest.mark.slow(seconds=25)
def test_a_database_that_is_down(stores: dict[str, str], tmp_path: Path) -> None:
    down = {**stores, "TICKCAST_DATABASE__URL": f"postgresql://nobody@/none?host={tmp_path}"}
    for command in COMMANDS:
        expected = EXPECTED[command][0]
        if expected is None:
            continue
        result = invoke(command, *ARGUMENTS.get(command, []), env=down)
        assert result.exit_code == expected, (command, result.output)
        if expected == 3:
            assert "error (database unavailable): PostgreSQL at" in one_error_line(result)


@pytest.fixture
def empty_databases(server_url: str) -> Iterator[Any]:
    """A factory of fresh, empty databases, dropped afterwards."""
    import uuid

    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    names: list[str] = []

    def create() -> str:
        names.append(f"tickcast_empty_{uuid.uuid4().hex[:10]}")
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{names[-1]}"')
        return make_conninfo(**{**conninfo_to_dict(server_url), "dbname": names[-1]})  # type: ignore[arg-type]

    yield create
    with psycopg.connect(server_url, autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow(seconds=40)
def test_an_empty_store(stores: dict[str, str], empty_databases: Any, tmp_path: Path) -> None:
    """A database nobody has migrated yet: commands that write migrate it, readers say to."""
    for command in COMMANDS:
        expected = EXPECTED[command][1]
        if expected is None:
            continue
        env = {**stores, "TICKCAST_DATABASE__URL": empty_databases()}
        env["TICKCAST_MLFLOW__TRACKING_URI"] = mlflow_store(
            tmp_path, f"{command.replace(' ', '_')}.db"
        )
        result = invoke(command, *ARGUMENTS.get(command, []), env=env)
        assert result.exit_code == expected, (command, result.output)
        if expected:
            assert one_error_line(result).startswith("error ("), (command, result.stderr)


def test_the_entry_point_prints_one_line_for_what_nobody_foresaw(tmp_path: Path) -> None:
    """A real process: an error no handler knows is one line and exit 70, the traceback only
    with --verbose."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKCAST_")}
    env |= {
        "TICKCAST_CONFIG": os.environ["TICKCAST_CONFIG"],
        "TICKCAST_MLFLOW__TRACKING_URI": "foo://x",
    }
    quiet = subprocess.run(
        [sys.executable, "-m", "tickcast", "model", "list"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert quiet.returncode == 70, quiet.stderr
    assert "Traceback" not in quiet.stderr and len(quiet.stderr.strip().splitlines()) == 1
    assert "error (unexpected): UnsupportedModelRegistryStoreURIException" in quiet.stderr
    loud = subprocess.run(
        [sys.executable, "-m", "tickcast", "--verbose", "model", "list"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loud.returncode == 1 and "Traceback" in loud.stderr


def test_user_text_is_printed_literally(tmp_path: Path) -> None:
    """Paths and YAML errors that look like Rich markup are shown as they are, whole."""
    weird = tmp_path / "we[ir]d [bold]dir"
    missing = invoke("ingest", "--source", "csv", "--path", str(weird), env={})
    assert missing.exit_code == 2
    assert f"CSV source directory {weird} does not exist" in one_error_line(missing)

    config = tmp_path / "[red]broken.yaml"
    config.write_text("data:\n  source: [csv\n  csv: {path: x}\n")
    broken = invoke("--config", str(config), "config", env={})
    assert broken.exit_code == 2
    message = one_error_line(broken)
    assert f"config file {config} is not valid YAML:" in message
    assert "expected ',' or ']', but got ':' (line 3, column 6)" in message
