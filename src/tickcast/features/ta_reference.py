"""The same indicators computed one ticker at a time with the `ta` library: the reference the
vectorised panel code is tested against, and the baseline bench/features.py times it against."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from ta.momentum import RSIIndicator
from ta.trend import MACD, EMAIndicator, SMAIndicator
from ta.volatility import AverageTrueRange, BollingerBands
from ta.volume import OnBalanceVolumeIndicator

from tickcast.features.indicators import MACD_FAST, MACD_SIGNAL, MACD_SLOW, parse_indicator


def ta_indicator(prices: pd.DataFrame, name: str) -> pd.Series:
    """One indicator for one ticker; `prices` has adjusted open/high/low/close and volume."""
    return pd.Series(_ta_values(prices, name), index=prices.index, dtype="float64")


def _ta_values(prices: pd.DataFrame, name: str) -> Any:
    kind, n = parse_indicator(name)
    close, volume = prices["close"], prices["volume"]
    if kind == "log_return":
        return np.log(close).diff()
    if kind == "return":
        return close.pct_change()
    if kind.startswith("macd"):
        macd = MACD(close, window_slow=MACD_SLOW, window_fast=MACD_FAST, window_sign=MACD_SIGNAL)
        line = {"macd": macd.macd, "macd_signal": macd.macd_signal, "macd_hist": macd.macd_diff}
        return line[kind]() / close
    if kind == "rsi":
        return RSIIndicator(close, window=n).rsi()
    if kind == "sma_ratio":
        return close / SMAIndicator(close, window=n).sma_indicator() - 1
    if kind == "ema_ratio":
        return close / EMAIndicator(close, window=n).ema_indicator() - 1
    if kind == "atr_ratio":
        atr = AverageTrueRange(prices["high"], prices["low"], close, window=n).average_true_range()
        return atr.where(np.arange(len(atr)) >= n - 1) / close  # ta writes 0 before the window
    if kind in ("bb_pband", "bb_wband"):
        bands = BollingerBands(close, window=n, window_dev=2)
        return bands.bollinger_pband() if kind == "bb_pband" else bands.bollinger_wband()
    if kind == "volume_z":
        mean, std = volume.rolling(n).mean(), volume.rolling(n).std()
        return ((volume - mean) / std.where(std != 0)).where(std != 0, 0.0).where(std.notna())
    if kind == "obv_change":
        obv = OnBalanceVolumeIndicator(close, volume).on_balance_volume()
        total = volume.rolling(n).sum()
        return (obv.diff(n) / total.where(total != 0)).where(total != 0, 0.0).where(total.notna())
    raise ValueError(f"no ta reference for {name!r}")
