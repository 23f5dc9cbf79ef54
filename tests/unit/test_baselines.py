"""The one-line baselines on hand-made prices: what each forecasts, from what, and b's sign."""

from __future__ import annotations

import numpy as np
import pytest

from tickcast.models.baselines import (
    Baselines,
    daily_returns,
    fit_baselines,
    market_returns,
)


def reverting_prices(seed: int, sessions: int = 400, tickers: int = 30) -> np.ndarray:
    """Log prices whose move apart from the market is 30 % undone the next session."""
    rng = np.random.default_rng(seed)
    market = rng.normal(0, 0.01, (sessions, 1))
    shocks = rng.normal(0, 0.02, (sessions, tickers))
    own = shocks.copy()
    own[1:] -= 0.3 * shocks[:-1]
    return 50 * np.exp(np.cumsum(market + own, axis=0))


def test_reversal_and_market_forecasts_from_todays_returns() -> None:
    close = reverting_prices(1)
    fitted = Baselines(reversal_slope=0.3, market_sessions=3)
    rows, columns = np.repeat([10, 11], 30), np.tile(np.arange(30), 2)
    returns = daily_returns(close)
    raw = fitted.raw(returns, rows, columns)
    market = market_returns(returns)
    expected = -0.3 * (returns[rows, columns] - market[rows])
    assert raw["reversal"] == pytest.approx(expected)
    assert raw["market"][:30] == pytest.approx(np.full(30, market[8:11].mean()))
    assert np.isnan(daily_returns(close)[0]).all()  # no return into the first session


def test_b_is_found_on_training_rows_and_calibrated_on_validation() -> None:
    close = reverting_prices(2)
    targets = np.full_like(close, np.nan)
    targets[:-1] = np.log(close[1:] / close[:-1])
    grid = np.indices((len(close) - 1, close.shape[1]))
    rows, columns = grid[0].ravel(), grid[1].ravel()
    train = (rows >= 1) & (rows < 250)
    validation = (rows >= 250) & (rows < 330)
    fitted = fit_baselines(
        close,
        targets,
        (rows[train], columns[train]),
        (rows[validation], columns[validation]),
        market_sessions=20,
    )
    assert 0.2 < fitted.reversal_slope < 0.4  # about the planted 0.3
    assert fitted.reversal_calibration.cross_section > 0.5  # it holds on validation too
    test = rows >= 330
    forecast = fitted.forecast(close, rows[test], columns[test])
    assert np.corrcoef(forecast["reversal"], targets[rows[test], columns[test]])[0, 1] > 0.1
    per_session = forecast["market"].reshape(-1, close.shape[1])
    assert np.allclose(per_session, per_session[:, :1])  # one number for every ticker
