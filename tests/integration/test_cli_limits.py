"""Values no command can use are usage errors (exit 2, one line), not a crash deep inside:
versions beyond PostgreSQL's integers, impossible or busy ports, a backtest that ends before it
starts."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tickcast.cli.app import app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize(
    "args",
    [
        ["model", "show", "99999999999999999999"],
        ["model", "promote", "0"],
        ["evaluate", "0"],
        ["promote", "2147483648"],
        ["serve", "--port", "70000"],
        ["serve", "--port", "-1"],
        ["backtest", "--start", "2017-06-30", "--end", "2017-06-01"],
    ],
)
def test_impossible_values_are_usage_errors(args: list[str]) -> None:
    code, output = run(*args)
    assert code == 2 and "Invalid value" in output, output


def test_a_port_in_use_is_named_in_one_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        code, output = run("serve", "--host", "127.0.0.1", "--port", str(port))
    assert code == 2
    assert f"error (config): cannot listen on 127.0.0.1:{port}" in output, output


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    bomb += [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)
    ]
    config = tmp_path / "bomb.yaml"
    config.write_text("\n".join(bomb) + "\n")
    code, output = run("--config", str(config), "config")
    assert code == 2 and "line 2: YAML aliases (*a) are not supported" in output, output


def test_an_unknown_exchange_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKCAST_CALENDAR__EXCHANGE", "XNYZ")
    code, output = run("config")
    assert code == 2 and "unknown exchange-calendars code 'XNYZ' (did you mean " in output
    assert "XNYS" in output


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["validate", "--as-of", "1985-01-02"], "before the first known XNYS session 1990-01-02"),
        (["decide", "--as-of", "2099-01-02"], "--as-of 2099-01-02 is in the future"),
    ],
)
def test_dates_the_calendar_cannot_hold_are_usage_errors(args: list[str], problem: str) -> None:
    code, output = run(*args)
    assert code == 2 and problem in output, output


def test_a_misspelt_variable_is_named_with_the_setting_it_resembles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TICKCAST_DATABASE_URL", "postgresql://elsewhere/db")
    monkeypatch.setenv("TICKCAST_DATA__CSV__PATH", "data/sample/stocknet")  # a real nested key
    result = CliRunner().invoke(app, ["config"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: TICKCAST_DATABASE_URL names no tickcast setting and is ignored (did you mean "
        "TICKCAST_DATABASE__URL?)"
    ]
