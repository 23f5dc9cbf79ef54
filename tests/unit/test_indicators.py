"""The vectorised panel indicators equal the `ta` library's, ticker by ticker, and are causal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import STOCKNET_DIR
from tickcast.config import DEFAULT_INDICATORS
from tickcast.data.calendar import trading_calendar
from tickcast.features.indicators import compute_indicators, parse_indicator, warmup_sessions
from tickcast.features.panel import PricePanel, build_panel
from tickcast.features.ta_reference import ta_indicator

TICKERS = ["AAPL", "XOM", "PTR", "GE"]
NAMES = [
    *DEFAULT_INDICATORS,
    "return",
    "rsi_5",
    "sma_ratio_20",
    "atr_ratio_5",
    "bb_pband_10",
    "obv_change_5",
]


def stocknet_prices(tickers: list[str]) -> pd.DataFrame:
    frames = []
    for ticker in tickers:
        raw = pd.read_csv(STOCKNET_DIR / f"{ticker}.csv").dropna()
        raw = raw.rename(columns={"Date": "trade_date", "Adj Close": "adj_close"})
        raw.columns = [c.lower() for c in raw.columns]
        frames.append(raw.assign(ticker=ticker))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def panel(stocknet_dir: object) -> PricePanel:
    return build_panel(
        stocknet_prices(TICKERS), trading_calendar(), min_sessions=100, max_gap_sessions=5
    )


@pytest.mark.parametrize("name", NAMES)
def test_equals_ta_per_ticker(panel: PricePanel, name: str) -> None:
    vectorised = compute_indicators(panel, [name])[name]
    for ticker in panel.tickers:
        prices = pd.DataFrame(
            {
                "high": panel.adjusted("high")[ticker],
                "low": panel.adjusted("low")[ticker],
                "close": panel.adj_close[ticker],
                "volume": panel.volume[ticker],
            }
        )
        expected = ta_indicator(prices, name)
        np.testing.assert_allclose(
            vectorised[ticker], expected, rtol=1e-9, atol=1e-12, err_msg=f"{name} {ticker}"
        )


def test_indicators_are_causal(panel: PricePanel) -> None:
    before = compute_indicators(panel, NAMES)
    cut = 700
    shocked = PricePanel(**{**panel.__dict__})
    for field in ("open", "high", "low", "close", "adj_close", "volume"):
        frame = getattr(panel, field).copy()
        frame.iloc[cut + 1 :] *= np.linspace(0.5, 1.5, len(frame) - cut - 1)[:, None]
        setattr(shocked, field, frame)
    after = compute_indicators(shocked, NAMES)
    for name in NAMES:
        pd.testing.assert_frame_equal(
            before[name].iloc[: cut + 1], after[name].iloc[: cut + 1], obj=name
        )
        assert not before[name].iloc[cut + 2 :].equals(after[name].iloc[cut + 2 :]), name


def test_warmup_covers_every_indicator(panel: PricePanel) -> None:
    values = compute_indicators(panel, NAMES)
    warmup = warmup_sessions(NAMES)
    for name, frame in values.items():
        assert frame.iloc[warmup:].notna().all().all(), name


def test_parse_indicator() -> None:
    assert parse_indicator("rsi_14") == ("rsi", 14)
    assert parse_indicator("macd_hist") == ("macd_hist", 0)
    with pytest.raises(ValueError, match="unknown indicator"):
        parse_indicator("rsi")
