"""The one-line baselines a quant asks a model to beat, beside persistence everywhere:

- `reversal`: tomorrow's return relative to the market is -b x today's (short-term reversal: a
  part of a price shock is temporary). b is the least-squares slope on the training rows.
- `market`: every ticker gets the market's (equal-weight) mean daily return over the last
  `market_sessions` sessions.

Both are calibrated on validation like the models (tickcast.models.calibration): a baseline
without skill there forecasts persistence, as a model would. They read only adjusted closes up
to the anchor session, so the training rows, a dataset's test rows and tomorrow's forecast from
stored prices get them the same way. The fitted numbers travel in each version's bundle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tickcast.models.calibration import Calibration, fit_calibration, row_means, session_means

BASELINES = ("reversal", "market")


class Baselines(BaseModel):
    """A version's baselines, fitted on its training rows and calibrated on its validation rows."""

    reversal_slope: float  # b: the relative return that reverts the next session
    market_sessions: int
    reversal_calibration: Calibration = Calibration()
    market_calibration: Calibration = Calibration()

    def forecast(
        self, adjusted_close: np.ndarray, rows: np.ndarray, columns: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Calibrated log-return forecasts of each baseline for samples at (rows, columns) of a
        (sessions, tickers) adjusted-close matrix; NaN where today's return is unknown."""
        raw = self.raw(daily_returns(adjusted_close), rows, columns)
        return {
            "reversal": self.reversal_calibration.apply(raw["reversal"], rows),
            "market": self.market_calibration.apply(raw["market"], rows),
        }

    def raw(
        self, returns: np.ndarray, rows: np.ndarray, columns: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The baselines before calibration, from (sessions, tickers) daily log returns."""
        market = market_returns(returns)
        relative = returns[rows, columns] - market[rows]
        trailing = pd.Series(market).rolling(self.market_sessions, min_periods=1).mean()
        return {
            "reversal": -self.reversal_slope * relative,
            "market": trailing.to_numpy()[rows],
        }


def daily_returns(adjusted_close: np.ndarray) -> np.ndarray:
    """(sessions, tickers) log return into each session; NaN on the first or a missing close."""
    close = np.asarray(adjusted_close, np.float64)
    returns = np.full_like(close, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        returns[1:] = np.log(close[1:] / close[:-1])
    returns[~np.isfinite(returns)] = np.nan
    return returns


def market_returns(returns: np.ndarray) -> np.ndarray:
    """(sessions,) the equal-weight mean of each session's known returns (NaN: none known)."""
    return row_means(returns, np.isfinite(returns))


def fit_baselines(
    adjusted_close: np.ndarray,
    targets: np.ndarray,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    market_sessions: int,
) -> Baselines:
    """b from the (rows, columns) training samples and their targets (tomorrow's log returns,
    (sessions, tickers)); both calibrations from the validation samples."""
    rows, columns = train
    returns = daily_returns(adjusted_close)
    relative = returns[rows, columns] - market_returns(returns)[rows]
    tomorrow = targets[rows, columns]
    known = np.isfinite(relative) & np.isfinite(tomorrow)
    x = relative[known]
    y = tomorrow[known] - session_means(tomorrow[known], rows[known])
    variance = float(x @ x)
    fitted = Baselines(
        reversal_slope=-float(x @ y) / variance if variance > 0 else 0.0,
        market_sessions=market_sessions,
    )
    rows, columns = validation
    raw = fitted.raw(returns, rows, columns)
    actual = targets[rows, columns]
    return fitted.model_copy(
        update={
            "reversal_calibration": fit_calibration(raw["reversal"], actual, rows),
            "market_calibration": fit_calibration(raw["market"], actual, rows),
        }
    )
