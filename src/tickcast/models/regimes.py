"""Calm and turbulent sessions, for reports that give every figure for each: a session is
turbulent when the market's realised volatility over the last 20 sessions is above twice its
median over the last 250 (the 2020 crash, 2008, August 2015 in US large caps)."""

from __future__ import annotations

import pandas as pd

VOLATILITY_SESSIONS = 20
MEDIAN_SESSIONS = 250
MULTIPLE = 2.0
# Sessions of returns before a session that decide whether it is turbulent
HISTORY_SESSIONS = VOLATILITY_SESSIONS + MEDIAN_SESSIONS - 1


def turbulent_sessions(market_returns: pd.Series) -> pd.Series:
    """True on the sessions (the series' index, in order) whose trailing 20-session standard
    deviation of the market's daily return is above twice its trailing 250-session median; False
    where there is not yet a 20-session volatility to judge."""
    volatility = market_returns.rolling(VOLATILITY_SESSIONS, min_periods=VOLATILITY_SESSIONS).std()
    median = volatility.rolling(MEDIAN_SESSIONS, min_periods=VOLATILITY_SESSIONS).median()
    turbulent: pd.Series = (volatility > MULTIPLE * median).fillna(False).astype(bool)
    return turbulent
