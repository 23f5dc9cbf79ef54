"""The rows that quarantine a ticker: a one-session move beyond the outlier threshold, or a close
outside the band around the median of its previous sessions; an explained (split, dividend or
accepted) session is neither, and the band starts again from it."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from tickcast.config import ValidationSettings
from tickcast.data.jumps import Jump, OutOfBand, unexplained_rows

RULES = ValidationSettings()  # moves beyond 0.75, closes beyond 1.5 of a 20-session median
START = date(2020, 1, 1)


def prices(**closes: list[float]) -> pd.DataFrame:
    rows = [
        {"ticker": ticker, "trade_date": START + timedelta(days=i), "adj_close": close}
        for ticker, series in sorted(closes.items())
        for i, close in enumerate(series)
    ]
    return pd.DataFrame(rows)


def day(i: int) -> date:
    return START + timedelta(days=i)


def test_a_close_reached_step_by_step_leaves_the_band() -> None:
    # 30 quiet sessions at 100, then four steps of +0.5 in log: no step is a jump
    drifting = [100.0] * 30 + [100.0 * np.exp(0.5 * k) for k in range(1, 5)]
    found = unexplained_rows(prices(BAD=drifting, GOOD=[50.0] * 34), set(), RULES)
    assert list(found) == ["BAD"]
    [first, *_] = found["BAD"].findings
    assert isinstance(first, OutOfBand) and first.trade_date == day(33) == found["BAD"].since
    assert (first.adj_close, first.median) == pytest.approx((738.906, 100.0), abs=1e-3)
    assert "an adjusted close of 738.906 on 2020-02-03, +2.00 in log from the median 100 of " in (
        found["BAD"].reason
    )
    assert "`tickcast prices accept BAD 2020-02-03`" in found["BAD"].reason


def test_an_absurd_close_is_named_as_the_row_not_the_move() -> None:
    closes = [937.0] * 25 + [0.01] + [937.0] * 3
    [first, back] = unexplained_rows(prices(X=closes), set(), RULES)["X"].findings
    assert isinstance(first, OutOfBand) and first.trade_date == day(25)
    assert round(first.log_distance, 2) == -11.45
    assert isinstance(back, Jump) and back.trade_date == day(26)  # the way back
    assert round(back.log_return, 2) == 11.45


def test_an_explained_session_is_no_finding_and_restarts_the_band() -> None:
    shifted = [100.0] * 25 + [600.0] * 30  # a real level shift (+1.79) on session 25
    assert list(unexplained_rows(prices(X=shifted), set(), RULES)) == ["X"]
    assert unexplained_rows(prices(X=shifted), {("X", day(25))}, RULES) == {}
    # a ticker of its own, unknown ones and other sessions change nothing
    assert list(unexplained_rows(prices(X=shifted), {("Y", day(25)), ("X", day(3))}, RULES))


def test_the_band_can_be_turned_off() -> None:
    drifting = [100.0] * 30 + [100.0 * np.exp(0.5 * k) for k in range(1, 5)]
    off = RULES.model_copy(update={"plausible_log_band": None})
    assert unexplained_rows(prices(X=drifting), set(), off) == {}
