"""Adaptive intervals through a volatility shock: a synthetic market whose volatility is 4 times
as high from 2017-06-01, forecast with a band of fixed scale per ticker (what the `residual`
interval kind, the ridge family's, forecasts: its width does not follow volatility), and with
the volatility baseline's band (an EWMA of squared returns: it follows, with a lag).

Each session the band's score quantiles come from the rolling window of the 60 sessions scored
before it (today's split-conformal recalibration, tickcast.models.intervals.score_calibration)
and, adapted, from the same window moved by the online offsets
(tickcast.models.adaptive_intervals), which then take that session's outcomes. Coverage is
judged with session-clustered standard errors: a day's misses are correlated (the market moves
every ticker at once).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tickcast.config import IntervalSettings, RegimeShiftSettings, SyntheticSourceSettings
from tickcast.data.calendar import TradingCalendar
from tickcast.data.sources.synthetic import SyntheticSource
from tickcast.models.adaptive_intervals import Adaptation, adapted, shares_above, tracked
from tickcast.models.intervals import (
    IntervalCalibration,
    centre_and_scale,
    ewma_volatility,
    score_calibration,
    volatility_quantiles,
)

LEVELS = [0.1, 0.5, 0.9]
SHOCK = date(2017, 6, 1)
WINDOW = 60
DEFAULTS = IntervalSettings()


def shocked_market(seed: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """60 tickers, 2015-01-02 .. 2017-12-29, annual volatility 0.25 -> 1.0 on SHOCK."""
    settings = SyntheticSourceSettings(
        n_tickers=60,
        start=date(2015, 1, 2),
        end=date(2017, 12, 29),
        seed=seed,
        regime_shift=RegimeShiftSettings(date=SHOCK, annual_drift=0.07, annual_volatility=1.0),
    )
    source = SyntheticSource(settings, TradingCalendar("XNYS"))
    close = np.column_stack(
        [
            source.fetch(ticker, None, None)["close"].to_numpy()
            for ticker in source.available_tickers()
        ]
    )
    return source.sessions, close


def band_scores(close: np.ndarray, fixed_scale: bool) -> np.ndarray:
    """(anchor sessions - 1, tickers): where each next-session return fell in its raw band,
    (actual - centre) / scale; the band the volatility baseline's, or with each ticker's scale
    fixed at its median over the first year."""
    volatility = ewma_volatility(close, DEFAULTS.volatility_halflife_sessions)
    centre, scale = centre_and_scale(volatility_quantiles(volatility.ravel(), LEVELS))
    centre, scale = centre.reshape(close.shape), scale.reshape(close.shape)
    if fixed_scale:
        scale = np.broadcast_to(np.nanmedian(scale[:250], axis=0), scale.shape)
    returns = np.log(close[1:] / close[:-1])
    scores: np.ndarray = (returns - centre[:-1]) / scale[:-1]
    return scores


def replay(scores: np.ndarray, first: int) -> tuple[np.ndarray, np.ndarray]:
    """Per session from `first`: the share of tickers inside the central band, rolling split
    conformal and adapted."""
    state = Adaptation.start(LEVELS)
    rolling, adaptive = [], []
    for t in range(first, len(scores)):
        base = score_calibration(scores[t - WINDOW : t].ravel(), LEVELS)
        issued = adapted(base, state.model)
        rolling.append(inside(scores[t], base))
        adaptive.append(inside(scores[t], issued))
        above = shares_above(scores[t], np.asarray(issued.score_quantiles))
        state = state.updated(
            date(2000, 1, 1), above, above, DEFAULTS.adaptive_step or 0, DEFAULTS.adaptive_bound
        )
    return np.array(rolling), np.array(adaptive)


def inside(scores: np.ndarray, calibration: IntervalCalibration) -> float:
    low, high = calibration.score_quantiles[0], calibration.score_quantiles[-1]
    return float(((scores >= low) & (scores <= high)).mean())


def clustered(per_session: np.ndarray) -> tuple[float, float]:
    """Coverage and its session-clustered standard error (every session has all tickers)."""
    return float(per_session.mean()), float(per_session.std(ddof=1) / np.sqrt(len(per_session)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_adaptive_band_keeps_its_promise_through_a_volatility_shock(seed: int) -> None:
    sessions, close = shocked_market(seed)
    first = int(sessions.searchsorted(pd.Timestamp(2016, 6, 1)))
    after = np.flatnonzero(sessions[first + 1 : len(close)] >= pd.Timestamp(SHOCK))[:60]
    for fixed_scale in (True, False):
        rolling, adaptive = replay(band_scores(close, fixed_scale), first)
        whole, whole_se = clustered(adaptive)
        adaptive_after, adaptive_se = clustered(adaptive[after])
        rolling_after, rolling_se = clustered(rolling[after])
        se = max(adaptive_se, rolling_se)
        gain = (abs(rolling_after - 0.8) - abs(adaptive_after - 0.8)) / se
        band = "fixed-scale band" if fixed_scale else "volatility band"
        print(
            f"seed {seed}, {band}: adaptive coverage {whole:.3f} ± {whole_se:.3f} over "
            f"{len(adaptive)} sessions; 60 sessions after the shock: rolling {rolling_after:.3f} "
            f"± {rolling_se:.3f}, adaptive {adaptive_after:.3f} ± {adaptive_se:.3f} "
            f"(closer to 80 % by {gain:.1f} standard errors)"
        )
        assert abs(whole - 0.8) <= 2 * whole_se, (band, whole, whole_se)
        if fixed_scale:  # the window lags the shock: the adaptive band recovers
            assert gain > 2, (band, rolling_after, adaptive_after, se)
        else:  # the scale follows volatility: the window barely lags; no worse adapted
            assert gain > -2, (band, rolling_after, adaptive_after, se)


def test_a_step_and_an_offset_are_bounded_and_the_quantiles_stay_in_order() -> None:
    offsets = np.zeros(3)
    for _ in range(1000):  # every outcome above every quantile, session after session
        offsets = tracked(offsets, np.ones(3), LEVELS, step=1.0, bound=10.0)
    assert offsets.tolist() == [10.0, 10.0, 10.0]
    one = tracked(np.zeros(3), np.ones(3), LEVELS, step=1.0, bound=10.0)
    assert one == pytest.approx([0.1, 0.5, 0.9])  # one session moves at most `step` x 1
    unknown = tracked(np.array([0.2, 0.0, -0.3]), np.full(3, np.nan), LEVELS, 1.0, 10.0)
    assert unknown.tolist() == [0.2, 0.0, -0.3]
    base = IntervalCalibration(levels=LEVELS, score_quantiles=[-1.3, 0.0, 1.3], samples=100)
    moved = adapted(base, [2.0, 0.0, -2.0])  # offsets that would cross: kept in order
    assert moved.score_quantiles == sorted(moved.score_quantiles)
    assert np.isfinite(moved.score_quantiles).all()
