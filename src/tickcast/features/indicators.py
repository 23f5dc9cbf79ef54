"""Technical indicators on the aligned panel, all tickers at once, causally.

Each indicator is a column-wise pandas expression over the wide (dates x tickers) frames, so a
value at day t uses data up to t only, and the panel of 500 tickers costs one pass, not 500.
The formulas are those of the `ta` library (tests/unit/test_indicators.py proves equality to
`ta` per ticker; bench/features.py measures the gain). Price-level indicators (MACD, ATR, moving
averages) are expressed relative to the close, so one scaler fits a ticker over years.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from tickcast.config import INDICATOR_PATTERN
from tickcast.features.panel import PricePanel

MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
BOLLINGER_DEVIATIONS = 2.0


def compute_indicators(panel: PricePanel, names: list[str]) -> dict[str, pd.DataFrame]:
    """name -> (dates x tickers) frame, NaN where the indicator is not defined yet."""
    prices = _Prices(panel)
    return {name: _indicator(prices, name) for name in names}


def warmup_sessions(names: list[str]) -> int:
    """Sessions before every indicator in `names` is defined (the longest look-back)."""
    longest = 1
    for name in names:
        kind, window = parse_indicator(name)
        if kind in ("macd", "macd_signal", "macd_hist"):
            longest = max(longest, MACD_SLOW + MACD_SIGNAL - 1)
        elif window:
            longest = max(longest, window + 1)
    return longest


def parse_indicator(name: str) -> tuple[str, int]:
    """('rsi', 14) for rsi_14; (name, 0) for the fixed indicators."""
    match = INDICATOR_PATTERN.match(name)
    if match is None:
        raise ValueError(f"unknown indicator {name!r}")
    if match[2]:
        return match[2], int(match[3])
    return name, 0


class _Prices:
    """The adjusted wide frames indicators read, computed once."""

    def __init__(self, panel: PricePanel) -> None:
        self.close = panel.adj_close
        self.high = panel.adjusted("high")
        self.low = panel.adjusted("low")
        self.volume = panel.volume
        self._macd: tuple[pd.DataFrame, pd.DataFrame] | None = None

    def macd(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        if self._macd is None:
            line = ema(self.close, MACD_FAST) - ema(self.close, MACD_SLOW)
            self._macd = line, ema(line, MACD_SIGNAL)
        return self._macd


def ema(frame: pd.DataFrame, window: int) -> pd.DataFrame:
    """`ta`'s EMA: span `window`, undefined for the first window - 1 values."""
    return frame.ewm(span=window, min_periods=window, adjust=False).mean()


def rsi(close: pd.DataFrame, window: int) -> pd.DataFrame:
    diff = close.diff(1)
    up = diff.where(diff > 0, 0.0).ewm(alpha=1 / window, min_periods=window, adjust=False).mean()
    down = (
        (-diff.where(diff < 0, 0.0)).ewm(alpha=1 / window, min_periods=window, adjust=False).mean()
    )
    values = 100 - 100 / (1 + up / down)
    return values.where(down != 0, 100.0).where(down.notna())


def average_true_range(
    high: pd.DataFrame, low: pd.DataFrame, close: pd.DataFrame, window: int
) -> pd.DataFrame:
    """Wilder's ATR as `ta` computes it: seeded with the mean of the first `window` true ranges."""
    previous = close.shift(1)
    ranges = [
        (high - low).to_numpy(),
        (high - previous).abs().to_numpy(),
        (low - previous).abs().to_numpy(),
    ]
    true_range = pd.DataFrame(
        np.fmax(np.fmax(ranges[0], ranges[1]), ranges[2]), index=close.index, columns=close.columns
    )
    seeded = true_range.copy()
    seeded.iloc[: window - 1] = np.nan
    seeded.iloc[window - 1] = true_range.iloc[:window].mean()
    return seeded.ewm(alpha=1 / window, adjust=False).mean()


def bollinger(close: pd.DataFrame, window: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(%B, band width in percent) of `ta`'s Bollinger bands."""
    mean = close.rolling(window, min_periods=window).mean()
    deviation = close.rolling(window, min_periods=window).std(ddof=0)
    high, low = mean + BOLLINGER_DEVIATIONS * deviation, mean - BOLLINGER_DEVIATIONS * deviation
    percent_b = (close - low) / (high - low).where(high != low)
    width = (high - low) / mean * 100
    return percent_b, width


def on_balance_volume(close: pd.DataFrame, volume: pd.DataFrame) -> pd.DataFrame:
    falling = close < close.shift(1)
    signed: pd.DataFrame = volume.where(~falling, -volume)
    return signed.cumsum()


def _ratio(numerator: pd.DataFrame, denominator: pd.DataFrame) -> pd.DataFrame:
    """numerator / denominator, 0 where the denominator is 0 (e.g. no volume in the window)."""
    return (
        (numerator / denominator.where(denominator != 0))
        .where(denominator != 0, 0.0)
        .where(denominator.notna() & numerator.notna())
    )


def _indicator(p: _Prices, name: str) -> pd.DataFrame:
    kind, n = parse_indicator(name)
    builders: dict[str, Callable[[], pd.DataFrame]] = {
        "log_return": lambda: p.close.transform(np.log).diff(),
        "return": lambda: p.close.pct_change(),
        "macd": lambda: p.macd()[0] / p.close,
        "macd_signal": lambda: p.macd()[1] / p.close,
        "macd_hist": lambda: (p.macd()[0] - p.macd()[1]) / p.close,
        "rsi": lambda: rsi(p.close, n),
        "sma_ratio": lambda: p.close / p.close.rolling(n, min_periods=n).mean() - 1,
        "ema_ratio": lambda: p.close / ema(p.close, n) - 1,
        "atr_ratio": lambda: average_true_range(p.high, p.low, p.close, n) / p.close,
        "bb_pband": lambda: bollinger(p.close, n)[0],
        "bb_wband": lambda: bollinger(p.close, n)[1],
        "volume_z": lambda: _ratio(
            p.volume - p.volume.rolling(n, min_periods=n).mean(),
            p.volume.rolling(n, min_periods=n).std(),
        ),
        "obv_change": lambda: _ratio(
            on_balance_volume(p.close, p.volume).diff(n),
            p.volume.rolling(n, min_periods=n).sum(),
        ),
    }
    return builders[kind]().astype("float64")
