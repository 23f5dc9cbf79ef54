"""A file of NUL bytes or a 50 000-digit value makes a message of bounded length, on screen and
in the run's record (it once made a 200 KB one-line error, stored with every ingest run)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import copy_stocknet
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.db.connection import connect, database_url


def test_huge_inputs_make_short_messages(settings: Settings, tmp_path: Path) -> None:
    folder = copy_stocknet(["AAPL"], tmp_path / "csv")
    (folder / "ZERO.csv").write_bytes(b"\x00" * 50_000)
    (folder / "WIDE.csv").write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n2017-01-03," + "9" * 50_000 + ",1,1,1,1,1\n"
    )
    result = ingest_prices(settings, source="csv", csv_path=folder)
    by_ticker = {t.ticker: t for t in result.tickers}
    assert by_ticker["AAPL"].status == "stored"  # the others go on
    for ticker in ("ZERO", "WIDE"):
        messages = by_ticker[ticker].messages
        assert messages and all(len(m) < 600 for m in messages), ticker
        assert any("more characters)" in m for m in messages), messages
    with connect(database_url(settings)) as conn:
        row = conn.execute("SELECT errors FROM ingest_runs").fetchone()
    assert row is not None and len(json.dumps(row[0])) < 5_000
