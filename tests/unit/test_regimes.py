"""Calm and turbulent sessions: a volatility shock in the market's returns is flagged while its
20-session volatility stays above twice the trailing median, and calm markets never are."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tickcast.models.regimes import turbulent_sessions


def test_a_shock_is_turbulent_and_a_calm_market_is_not() -> None:
    rng = np.random.default_rng(5)
    days = pd.bdate_range("2018-01-01", periods=600)
    calm = pd.Series(rng.normal(0, 0.01, 600), index=days)
    assert not turbulent_sessions(calm).any()
    shocked = calm.copy()
    shocked.iloc[400:460] *= 4  # a crash: volatility x 4 for 60 sessions
    flags = turbulent_sessions(shocked)
    assert not flags.iloc[:400].any()
    assert flags.iloc[415:460].all()  # once 20 sessions of it are in the window
    assert flags.index.equals(days) and flags.dtype == bool
    assert not turbulent_sessions(calm.iloc[:10]).any()  # no 20-session volatility yet
