"""Every bad-input case through `tickcast ingest --strict` (in process): the exit code, the message
naming ticker, file line and rule, and exactly the rows stored; a good neighbour always lands."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from tests.bad_inputs import Case, cases, good_lines, stored_rows_of, write_case
from tickcast.cli.app import app
from tickcast.db.connection import connect
from tickcast.db.prices import load_prices

NEIGHBOUR = "GOOD"


@pytest.fixture(scope="module")
def outcomes(
    server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Any, ...]]:
    """Each case ingested alone (with a good neighbour) into one database: exit, output, rows."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = "tickcast_hostile"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(**{**conninfo_to_dict(server_url), "dbname": name})  # type: ignore[arg-type]
    root = tmp_path_factory.mktemp("hostile")
    runner = CliRunner()
    env = {"TICKCAST_DATABASE__URL": url, "COLUMNS": "200"}
    results = {}
    for number, case in enumerate(cases()):
        folder = root / f"case{number}"
        write_case(case, folder)
        (folder / f"{NEIGHBOUR}.csv").write_text(
            "\n".join(["Date,Open,High,Low,Close,Adj Close,Volume", *good_lines()]) + "\n"
        )
        args = ["ingest", "--source", "csv", "--path", str(folder), "--strict"]
        if case.content is None and case.status == "failed":  # no file: asked for by name
            args += ["--tickers", f"{case.ticker},{NEIGHBOUR}"]
        result = runner.invoke(app, args, env=env)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        results[case.ticker] = (result.exit_code, result.stdout + result.stderr)
    with connect(url) as conn:
        prices = load_prices(conn)
    return {ticker: (*found, prices) for ticker, found in results.items()}


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.ticker)
def test_case_exit_message_and_rows(case: Case, outcomes: dict[str, tuple[Any, ...]]) -> None:
    exit_code, output, prices = outcomes[case.ticker]
    assert exit_code == (1 if case.status in ("rejected", "failed") else 0), output
    if case.rule:
        flat = " ".join(output.split())
        if case.status == "ignored":
            assert case.rule in flat, output
        else:
            where = f"{case.ticker} row {case.line}: " if case.line else f"{case.ticker}: "
            assert f"{where}" in flat and case.rule in flat, output
    assert stored_rows_of(prices, case.ticker.upper()) == case.stored_lines()
    assert stored_rows_of(prices, NEIGHBOUR) == good_lines()  # the neighbour always lands
    assert "Traceback" not in output and "hunter2" not in output  # no outside file echoed
