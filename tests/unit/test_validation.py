from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.bad_inputs import Case, cases, write_catalogue
from tickcast.data.calendar import trading_calendar
from tickcast.data.sources import SourceError
from tickcast.data.sources.csv_dir import CsvDirectorySource
from tickcast.data.validation import STORED_COLUMNS, validate_batch, validate_prices

CAL = trading_calendar()
TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.ticker)
def test_catalogue_case(case: Case, tmp_path: Path) -> None:
    write_catalogue(tmp_path)
    source = CsvDirectorySource(tmp_path, CAL.timezone)
    if case.status == "ignored":
        assert case.rule in "\n".join(source.notes())
        assert case.ticker.upper() not in source.available_tickers()
        return
    if case.status == "failed":
        with pytest.raises(SourceError, match=case.rule.replace(".", r"\.")):
            source.fetch(case.ticker, None, None)
        return
    result = validate_prices(case.ticker, source.fetch(case.ticker, None, None), CAL, TODAY)
    messages = [str(issue) for issue in result.issues]
    if case.ticker == "HEADERONLY":  # no rows is not a rule violation here; ingest decides
        assert result.frame.empty and not result.issues
        return
    if case.status == "rejected":
        assert result.rejected
        assert result.frame.empty
    else:
        assert not result.rejected, messages
        assert len(result.frame) == case.stored_rows
        assert result.frame["trade_date"].is_monotonic_increasing
    if case.rule:
        where = f"{case.ticker} row {case.line}: " if case.line else f"{case.ticker}: "
        assert any(m.startswith(where) and case.rule in m for m in messages), messages


def test_clean_rows_are_typed_and_sorted() -> None:
    raw = pd.DataFrame(
        {
            "trade_date": ["2017-01-04", "2017-01-03"],
            "open": ["1.5", "1"],
            "high": ["2", "2"],
            "low": ["1", "0.5"],
            "close": ["1.8", "1.5"],
            "adj_close": ["1.7", "1.4"],
            "volume": ["200", "100"],
            "row": [2, 3],
        }
    )
    result = validate_prices("ABC", raw, CAL, TODAY)
    assert not result.issues
    assert list(result.frame.columns) == STORED_COLUMNS
    assert result.frame["trade_date"].dt.day.tolist() == [3, 4]
    assert result.frame["volume"].dtype == "int64"
    assert result.frame["ticker"].unique().tolist() == ["ABC"]


def test_tolerance_absorbs_rounding_but_not_real_violations() -> None:
    raw = pd.DataFrame(
        {
            "trade_date": ["2017-01-03"],
            "open": [10.0],
            "high": [10.0000001],
            "low": [9.0],
            "close": [10.0000009],
            "adj_close": [10.0],
            "volume": [5],
        }
    )
    assert not validate_prices("ABC", raw, CAL, TODAY, tolerance=1e-6).rejected
    assert validate_prices("ABC", raw, CAL, TODAY, tolerance=0).rejected


def test_catalogue_has_at_least_twelve_cases() -> None:
    assert len(cases()) >= 12


def test_a_batch_judges_each_ticker_as_alone(tmp_path: Path) -> None:
    """Validating the whole catalogue in one batch gives every ticker the result it gets alone:
    a bad neighbour rejects nothing else, and the same session under two tickers is no
    duplicate."""
    write_catalogue(tmp_path)
    source = CsvDirectorySource(tmp_path, CAL.timezone)
    raws = {}
    for ticker in source.available_tickers():
        try:
            raws[ticker] = source.fetch(ticker, None, None)
        except SourceError:
            continue
    batch = validate_batch(raws, CAL, TODAY)
    accepted = []
    for ticker, raw in raws.items():
        alone = validate_prices(ticker, raw, CAL, TODAY)
        together = batch.results[ticker]
        assert [str(i) for i in together.issues] == [str(i) for i in alone.issues], ticker
        pd.testing.assert_frame_equal(together.frame, alone.frame, check_dtype=False)
        if not alone.frame.empty:
            accepted.append(alone.frame)
    assert any(r.rejected for r in batch.results.values())
    assert len(accepted) >= 2
    expected = pd.concat(accepted).sort_values(["ticker", "trade_date"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(batch.frame, expected)


def test_a_history_repeated_over_and_over_is_refused_in_linear_time() -> None:
    """A file holding its history 25 times (about 200 k rows): every session is named as a
    duplicate once per ticker, listing its rows, the rest counted; no per-session scan of the
    batch (this ran for minutes when each duplicated row searched the whole batch)."""
    sessions = pd.DatetimeIndex(CAL.sessions_between(date(1990, 1, 2), date(2021, 12, 31)))
    history = pd.DataFrame(
        {
            "trade_date": sessions.strftime("%Y-%m-%d"),
            **{column: 10.0 for column in ("open", "high", "low", "close", "adj_close")},
            "volume": 100.0,
        }
    )
    repeated = pd.concat([history] * 25, ignore_index=True)
    repeated["row"] = repeated.index + 2
    clean = validate_batch({"GOOD": history.assign(row=history.index + 2)}, CAL, TODAY)
    batch = validate_batch({"GOOD": clean.frame.iloc[0:0], "DUP": repeated}, CAL, TODAY)
    assert len(repeated) > 200_000
    result = batch.results["DUP"]
    assert result.rejected and result.frame.empty
    first = str(result.issues[0])
    assert first.startswith("DUP row 2: [unique date] session 1990-01-02 appears on rows 2, ")
    assert f"{2 + len(history)}, " in first and "and 15 more" in first  # 10 of 25 named
    assert str(result.issues[-1]) == (
        f"DUP: [unique date] {len(history) - 20} more sessions appear on several rows"
    )
    assert not clean.results["GOOD"].rejected
