"""Property-based fuzzing of ingest (Hypothesis): files mixing good rows with bad ones.

For every generated folder: a ticker is either stored exactly as given or rejected with one of
its bad rows named (ticker and file line), or, when a row has more fields than the header,
refused whole as unreadable; nothing non-finite is ever stored; a good neighbour is unaffected;
ingest never raises."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bad_inputs import SESSIONS, YAHOO_HEADER, good_lines, stored_rows_of
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.db.connection import connect
from tickcast.db.migrate import apply_migrations
from tickcast.db.prices import load_prices

# Values that must get a row (and so its ticker) rejected, by column index of a good line.
BAD_VALUES = {
    1: ["inf", "-inf", "nan", "1e308", "0", "-1", "abc", ""],  # open
    4: ["Infinity", "1e400", "-5", "NaN", "1,5"],  # close (a comma shifts the columns)
    6: ["1e19", "-3", "10.5", "1e400", "lots"],  # volume
    0: ["2017-01-07", "2099-01-03", "2017-02-30", "yesterday", "", "2017-01-03 16:00:00"],
}
counter = itertools.count()


@st.composite
def hostile_file(draw: st.DrawFn) -> tuple[str, set[int], int]:
    """(file text, file lines that must be refused, stored rows when none is)."""
    lines = good_lines()
    bad: dict[int, str] = {}
    for _ in range(draw(st.integers(0, 3))):
        row = draw(st.integers(0, len(lines) - 1))
        column = draw(st.sampled_from(sorted(BAD_VALUES)))
        fields = lines[row].split(",")
        fields[column] = draw(st.sampled_from(BAD_VALUES[column]))
        if column == 0 and fields[0] == "2017-01-03 16:00:00" and row == 0:
            continue  # the first session with a time of day is still that session: valid
        lines[row] = ",".join(fields)
        bad[row] = lines[row]
    blanks = sorted(draw(st.sets(st.integers(0, len(lines)), max_size=2)), reverse=True)
    for position in blanks:
        lines.insert(position, "")
    numbered = {}
    data_rows = iter(range(len(good_lines())))
    for line_number, line in enumerate(lines, start=2):
        if line:
            numbered[next(data_rows)] = line_number
    refused = {numbered[row] for row in bad}
    # A duplicated session names the second occurrence's line too.
    refused |= (
        {numbered[0]} if any(v.startswith(f"{SESSIONS[0]} ") for v in bad.values()) else set()
    )
    return "\n".join([YAHOO_HEADER, *lines]) + "\n", refused, len(good_lines())


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    with connect(settings.database.url or "") as conn:
        apply_migrations(conn)
    return settings


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(files=st.lists(hostile_file(), min_size=1, max_size=3))
def test_each_ticker_is_stored_exactly_or_refused_naming_its_row(
    files: list[tuple[str, set[int], int]],
    migrated: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    example = next(counter)
    tickers = [f"F{example:03d}X{i}" for i in range(len(files))]
    neighbour = f"F{example:03d}OK"
    for ticker, (text, _, _) in zip(tickers, files, strict=True):
        (folder / f"{ticker}.csv").write_text(text)
    (folder / f"{neighbour}.csv").write_text("\n".join([YAHOO_HEADER, *good_lines()]) + "\n")

    result = ingest_prices(migrated, source="csv", csv_path=folder, tickers=[*tickers, neighbour])

    outcomes = {t.ticker: t for t in result.tickers}
    with connect(migrated.database.url or "") as conn:
        prices = load_prices(conn, [*tickers, neighbour])
        (non_finite,) = conn.execute(
            "SELECT count(*) FROM raw_prices WHERE NOT (open < 'Infinity' AND high < 'Infinity'"
            " AND low < 'Infinity' AND close < 'Infinity' AND adj_close < 'Infinity')"
        ).fetchone() or (0,)
    assert non_finite == 0
    for ticker, (text, refused, _) in zip(tickers, files, strict=True):
        outcome = outcomes[ticker]
        if any(line.count(",") > YAHOO_HEADER.count(",") for line in text.splitlines()):
            assert outcome.status == "failed", (text, outcome.messages)
            assert "is not a readable CSV file" in outcome.messages[0]
            assert stored_rows_of(prices, ticker) == []
        elif not refused:
            assert outcome.status == "stored", (text, outcome.messages)
            assert stored_rows_of(prices, ticker) == good_lines()
        else:
            assert outcome.status == "rejected", (text, outcome.messages)
            assert stored_rows_of(prices, ticker) == []
            named = {
                line
                for line in refused
                if any(m.startswith(f"{ticker} row {line}:") for m in outcome.messages)
            }
            assert named, (refused, outcome.messages)
    assert outcomes[neighbour].status == "stored"
    assert stored_rows_of(prices, neighbour) == good_lines()
