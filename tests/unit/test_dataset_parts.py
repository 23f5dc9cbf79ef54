"""Panel policy, split, windows, scalers and the correlation filter on small hand-made data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tickcast.config import DatasetSettings, SplitSettings
from tickcast.data.calendar import trading_calendar
from tickcast.features.correlation import correlation_filter
from tickcast.features.panel import PanelError, build_panel
from tickcast.features.scaling import fit_scalers, scale
from tickcast.features.split import SplitError, chronological_split
from tickcast.features.windows import windows

CAL = trading_calendar()
SESSIONS = CAL.sessions_between(date(2016, 1, 4), date(2017, 12, 29))  # 503 sessions


def prices(ticker: str, days: list[date], start_price: float = 100.0) -> pd.DataFrame:
    close = start_price * np.exp(np.cumsum(np.full(len(days), 0.001)))
    return pd.DataFrame(
        {
            "ticker": ticker,
            "trade_date": days,
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "adj_close": close * 0.9,
            "volume": 1000,
        }
    )


POLICY = DatasetSettings(min_history_sessions=100, max_gap_sessions=3, start_coverage=0.75)


def test_ragged_history_policy_keeps_drops_and_fills() -> None:
    gappy = [d for i, d in enumerate(SESSIONS) if i not in (200, 201)]  # 2 missing: filled
    holey = [d for i, d in enumerate(SESSIONS) if not 300 <= i < 305]  # 5 missing: dropped
    frame = pd.concat(
        [
            prices("FULL", SESSIONS),
            prices("GAPPY", gappy),
            prices("HOLEY", holey),
            prices("SHORT", SESSIONS[-50:]),
            prices("STALE", SESSIONS[:-10]),
            prices("LATE", SESSIONS[150:]),
            prices("EARLY", SESSIONS[5:]),
        ]
    )
    panel = build_panel(frame, CAL, POLICY)
    reasons = {d.ticker: d.reason for d in panel.decisions}
    assert panel.tickers == ["EARLY", "FULL", "GAPPY"]
    assert reasons["HOLEY"].startswith("gap of 5 sessions")
    assert reasons["SHORT"].startswith("short history: 50 sessions")
    assert reasons["STALE"].startswith("stale: last price")
    assert reasons["LATE"].startswith("late starter")
    assert panel.dates[0].date() == SESSIONS[5]  # 3 of 4 candidates had started by then
    assert panel.dates.tolist() == pd.DatetimeIndex(SESSIONS[5:]).tolist()
    assert panel.filled["GAPPY"].sum() == 2
    filled_day = pd.Timestamp(SESSIONS[200])
    assert panel.volume.loc[filled_day, "GAPPY"] == 0
    gappy_close = panel.close["GAPPY"]
    assert gappy_close[filled_day] == gappy_close.shift(1)[filled_day]  # carried forward
    assert not panel.adj_close.isna().any().any()


def test_fixed_tickers_refuse_instead_of_dropping() -> None:
    frame = pd.concat([prices("FULL", SESSIONS), prices("STALE", SESSIONS[:-10])])
    with pytest.raises(PanelError, match=r"required tickers cannot be aligned: STALE: stale"):
        build_panel(frame, CAL, POLICY, tickers=["FULL", "STALE"])
    with pytest.raises(PanelError, match=r"no stored prices for tickers \['NOPE'\]"):
        build_panel(frame, CAL, POLICY, tickers=["FULL", "NOPE"])


def test_split_is_chronological_with_a_horizon_gap() -> None:
    split = chronological_split(
        100, sequence_length=10, horizon=2, fractions=SplitSettings(train=0.6, validation=0.2)
    )
    assert split.train.start == 9  # first row with a full window behind it
    assert split.validation.start == split.train.stop + 2
    assert split.test.start == split.validation.stop + 2
    assert split.test.stop == 98  # last row with a target 2 sessions ahead
    train_targets = [row + 2 for row in split.train]
    assert max(train_targets) < min(split.validation) and max(train_targets) < min(split.test)
    with pytest.raises(SplitError, match="too few"):
        chronological_split(15, sequence_length=10, horizon=1, fractions=SplitSettings())


def test_windows_hold_the_rows_before_each_anchor() -> None:
    values = np.arange(10 * 2 * 3, dtype=float).reshape(10, 2, 3)
    batch = windows(values, 4, [3, 9])
    assert batch.shape == (2, 4, 2, 3)
    np.testing.assert_array_equal(batch[0], values[0:4])
    np.testing.assert_array_equal(batch[1], values[6:10])
    with pytest.raises(IndexError):
        windows(values, 4, [2])


def test_scalers_use_training_rows_only() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=(50, 3, 2))
    values[30:] += 100  # validation/test rows far away
    values[5, 1, 0] = np.nan
    scalers = fit_scalers(values, range(0, 30))
    np.testing.assert_allclose(scalers.mean, np.nanmean(values[:30], axis=0))
    np.testing.assert_allclose(scalers.std, np.nanstd(values[:30], axis=0))
    scaled = scale(values, scalers)
    assert scaled.dtype == np.float32
    assert scaled[5, 1, 0] == 0.0
    assert abs(scaled[:30].mean()) < 0.1 and scaled[30:].mean() > 50


def test_correlation_filter_decides_on_training_rows() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(size=(200, 4))
    twin = base + rng.normal(scale=0.01, size=(200, 4))
    late_twin = rng.normal(size=(200, 4))
    late_twin[100:] = base[100:]  # correlated only after the training rows
    values = np.stack([base, twin, late_twin], axis=-1)
    kept, dropped = correlation_filter(values, ["a", "b", "c"], range(0, 100), threshold=0.9)
    assert kept == ["a", "c"]
    assert [(d.feature, d.correlated_with) for d in dropped] == [("b", "a")]
    assert dropped[0].correlation > 0.99
