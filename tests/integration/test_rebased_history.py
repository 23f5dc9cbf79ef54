"""A source that re-writes history (Yahoo-style adjusted prices after a split or a dividend) is
detected by the incremental ingest's re-read of stored sessions and healed: the stored history is
replaced on the new basis, the revision recorded, `validate` says what happened, and no fake
crash (or fake dividend drop) is left between the old rows and the new."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import copy_stocknet
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.data.quality import check_stored_prices
from tickcast.db.connection import connect, database_url
from tickcast.db.prices import load_prices

TICKER = "AAPL"
BEFORE = date(2016, 6, 1)  # the last session ingested before the action
ACTION = date(2016, 6, 2)  # the ex-date: the first session on the new basis
LATER = date(2016, 6, 10)
PRICES = ["Open", "High", "Low", "Close", "Adj Close"]


def as_read_before(history: pd.DataFrame, factor: float, columns: list[str]) -> pd.DataFrame:
    """The file as the source served it before the action: every row up to BEFORE on the old
    basis (the adjusted history divided back by `factor` in `columns`)."""
    old = history.copy()
    earlier = pd.to_datetime(old["Date"]).dt.date <= BEFORE
    old.loc[earlier, columns] = old.loc[earlier, columns] / factor
    if "Volume" in columns:  # volume follows a split the other way
        old.loc[earlier, "Volume"] = (old.loc[earlier, "Volume"] * factor).round()
    return old


def stored_returns(settings: Settings) -> pd.Series:
    with connect(database_url(settings)) as conn:
        prices = load_prices(conn, [TICKER])
    closes = prices.set_index("trade_date")["adj_close"]
    return (closes / closes.shift(1)).dropna().apply(np.log)


@pytest.mark.parametrize(
    ("action", "factor", "columns"),
    [
        ("7:1 split", 1 / 7, PRICES),  # Yahoo's Close and Adj Close are split-adjusted
        ("2% dividend", 0.98, ["Adj Close"]),  # only Adj Close moves by the dividend yield
    ],
)
def test_an_action_re_written_into_history_is_healed(
    settings: Settings, tmp_path: Path, action: str, factor: float, columns: list[str]
) -> None:
    folder = copy_stocknet([TICKER], tmp_path / "csv")
    # As the source reads after the action: one smooth adjusted history (the shipped file).
    after = pd.read_csv(folder / f"{TICKER}.csv")
    as_read_before(after, factor, columns).to_csv(folder / f"{TICKER}.csv", index=False)
    settings = settings.model_copy(update={"tickers": [TICKER]})
    first = ingest_prices(settings, source="csv", csv_path=folder, end=BEFORE)
    assert first.status == "succeeded"

    after.to_csv(folder / f"{TICKER}.csv", index=False)
    healed = ingest_prices(settings, source="csv", csv_path=folder, end=LATER)
    [outcome] = healed.tickers
    assert outcome.rebased, outcome.messages
    assert outcome.rebase_ratio == pytest.approx(factor, rel=1e-6), action
    assert "[rebased] the source re-wrote the stored history by a factor of" in "\n".join(
        outcome.messages
    )

    returns = stored_returns(settings)
    split_day = returns[ACTION]
    assert split_day > -0.5, action  # it was log(1/7) = -1.95 before the heal
    expected = pd.read_csv(folder / f"{TICKER}.csv")
    expected = expected[pd.to_datetime(expected["Date"]).dt.date <= LATER]
    truth = np.log((expected["Adj Close"] / expected["Adj Close"].shift(1)).dropna().to_numpy())
    np.testing.assert_allclose(returns.to_numpy(), truth, rtol=1e-9, atol=1e-12)

    report = check_stored_prices(settings, as_of=LATER)
    [quality] = report.tickers
    assert quality.status == "ok" and not quality.outliers, quality.reasons
    assert any(
        reason.startswith("history re-written by the source by a factor of")
        for reason in quality.reasons
    ), quality.reasons

    with connect(database_url(settings)) as conn:
        revisions = conn.execute(
            "SELECT kind, ratio, rows_changed FROM price_revisions WHERE ticker = %s", (TICKER,)
        ).fetchall()
        rebased = conn.execute(
            "SELECT tickers_rebased FROM ingest_runs WHERE id = %s", (healed.run_id,)
        ).fetchone()
    [(kind, ratio, rows_changed)] = revisions  # recorded once
    assert kind == "ratio" and ratio == pytest.approx(factor, rel=1e-6)
    assert rows_changed == outcome.rows_updated + outcome.rows_new > 0
    assert rebased == (1,)
    unchanged = ingest_prices(settings, source="csv", csv_path=folder, end=LATER)
    assert not unchanged.tickers[0].rebased and unchanged.rows_updated == 0


def test_without_the_re_read_a_split_reads_as_a_crash(settings: Settings, tmp_path: Path) -> None:
    """What the heal prevents (the ingest as it was: `ingest.overlap_sessions: 0`): the new rows
    join the old ones on another basis, and the split day stores a -85 % return."""
    folder = copy_stocknet([TICKER], tmp_path / "csv")
    after = pd.read_csv(folder / f"{TICKER}.csv")
    as_read_before(after, 1 / 7, PRICES).to_csv(folder / f"{TICKER}.csv", index=False)
    ingest = settings.ingest.model_copy(update={"overlap_sessions": 0})
    settings = settings.model_copy(update={"tickers": [TICKER], "ingest": ingest})
    ingest_prices(settings, source="csv", csv_path=folder, end=BEFORE)
    after.to_csv(folder / f"{TICKER}.csv", index=False)
    assert not ingest_prices(settings, source="csv", csv_path=folder, end=LATER).tickers[0].rebased
    assert stored_returns(settings)[ACTION] == pytest.approx(np.log(1 / 7), abs=0.05)
