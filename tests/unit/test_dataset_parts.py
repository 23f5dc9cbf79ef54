"""Panel policy, split, windows, scalers and the correlation filter on small hand-made data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tickcast.config import SplitSettings
from tickcast.data.calendar import trading_calendar
from tickcast.features.correlation import correlation_filter
from tickcast.features.panel import PanelError, build_panel
from tickcast.features.scaling import fit_scalers, scale
from tickcast.features.split import SplitError, chronological_split

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


def test_ragged_history_keeps_late_starters_and_early_stoppers() -> None:
    gappy = [d for i, d in enumerate(SESSIONS) if i not in (200, 201)]  # 2 missing: filled
    holey = [d for i, d in enumerate(SESSIONS) if not 300 <= i < 305]  # 5 missing: left open
    frame = pd.concat(
        [
            prices("FULL", SESSIONS),
            prices("GAPPY", gappy),
            prices("HOLEY", holey),
            prices("SHORT", SESSIONS[-50:]),
            prices("STALE", SESSIONS[:-10]),
            prices("LATE", SESSIONS[150:]),
        ]
    )
    panel = build_panel(frame, CAL, min_sessions=100, max_gap_sessions=3)
    reasons = {d.ticker: d.reason for d in panel.decisions}
    assert panel.tickers == ["FULL", "GAPPY", "HOLEY", "LATE", "STALE"]  # sorted
    assert reasons["SHORT"].startswith("short history: 50 sessions < 100")
    assert panel.dates.tolist() == pd.DatetimeIndex(SESSIONS).tolist()
    assert (
        panel.close["LATE"].iloc[:150].isna().all() and panel.close["LATE"].iloc[150:].notna().all()
    )
    assert panel.close["STALE"].iloc[-10:].isna().all()  # nothing carried past its last price
    assert panel.filled["GAPPY"].sum() == 2
    filled_day = pd.Timestamp(SESSIONS[200])
    assert panel.volume.loc[filled_day, "GAPPY"] == 0
    gappy_close = panel.close["GAPPY"]
    assert gappy_close[filled_day] == gappy_close.shift(1)[filled_day]  # carried forward
    assert panel.close["HOLEY"].iloc[300:305].isna().all() and not panel.filled["HOLEY"].any()


def test_asked_for_tickers_without_prices_are_listed_not_fatal() -> None:
    frame = prices("FULL", SESSIONS)
    panel = build_panel(frame, CAL, min_sessions=10, max_gap_sessions=3, tickers=["FULL", "NOPE"])
    assert panel.tickers == ["FULL"]
    assert [(d.ticker, d.reason) for d in panel.decisions if not d.kept] == [
        ("NOPE", "no stored prices")
    ]
    with pytest.raises(PanelError, match="no ticker has enough history"):
        build_panel(frame, CAL, min_sessions=10_000, max_gap_sessions=3)


def test_split_is_chronological_by_samples_with_a_horizon_gap() -> None:
    per_row = np.zeros(100, dtype=np.int64)
    per_row[9:98] = 1
    per_row[60:98] = 5  # more tickers later: the later sessions weigh more
    split = chronological_split(
        per_row, horizon=2, fractions=SplitSettings(train=0.6, validation=0.2)
    )
    assert split.train.start == 9 and split.test.stop == 98
    assert split.validation.start == split.train.stop + 2
    assert split.test.start == split.validation.stop + 2
    train_share = per_row[split.train.start : split.train.stop].sum() / per_row.sum()
    assert 0.58 <= train_share <= 0.62
    train_targets = [row + 2 for row in split.train]
    assert max(train_targets) < min(split.validation) and max(train_targets) < min(split.test)
    with pytest.raises(SplitError, match="too few"):
        chronological_split(np.ones(4, dtype=np.int64), horizon=1, fractions=SplitSettings())


def test_scalers_use_training_rows_only() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=(50, 3, 2))
    values[30:] += 100  # validation/test rows far away
    values[5, 1, 0] = np.nan
    scalers = fit_scalers(values, range(0, 30))
    pooled = values[:30].reshape(-1, 2)  # every ticker pooled: one scaler per feature
    np.testing.assert_allclose(scalers.mean, np.nanmean(pooled, axis=0))
    np.testing.assert_allclose(scalers.std, np.nanstd(pooled, axis=0))
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
