"""Values no command can use are usage errors (exit 2, one line), not a crash deep inside:
versions beyond PostgreSQL's integers, impossible or busy ports, a backtest that ends before it
starts."""

from __future__ import annotations

import socket

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
