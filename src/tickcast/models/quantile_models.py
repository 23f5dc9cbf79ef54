"""Raw quantile forecasts of the next log return, one kind per family; calibrated afterwards by
`tickcast.models.intervals` (the bundle keeps both).

- `ResidualQuantiles` (ridge, the ensemble): the calibrated point forecast (the return a user
  is shown, whatever target the model learns) plus quantiles of the training residuals from it
  in units of each sample's recent volatility, so the band widens when the ticker moves more.
- `TreeQuantiles` (LightGBM): one booster per level with LightGBM's quantile (pinball) objective
  on the family's inputs and the log of recent volatility, learning the next return in units of
  that volatility.
- `HeadQuantiles` (the LSTM variants): a linear quantile head on the network's representation,
  trained with the network and the pinball loss (`tickcast.training.fit`), in the same units.

Every quantile is thus a multiple of recent volatility: the band follows the ticker's volatility
as the baseline's does, and the model learns when the next move will be larger or smaller than
recent volatility says.

Each maps (windows, sessions, point forecasts, volatility) to (samples, levels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tickcast.models.calibration import Calibration
from tickcast.models.forecasters import tabular
from tickcast.models.intervals import IntervalCalibration, centre_and_scale, volatility_quantiles


class QuantileModel(Protocol):
    def raw_quantiles(
        self, windows: np.ndarray, sessions: np.ndarray, point: np.ndarray, volatility: np.ndarray
    ) -> np.ndarray: ...


@dataclass
class ResidualQuantiles:
    offsets: np.ndarray  # (levels,) quantiles of residual / volatility on the training samples
    # The point calibration the band is centred on (the bundle's); None: the raw point forecast
    # (bundles saved before, read as they were saved)
    centre: Calibration | None = None

    def raw_quantiles(
        self, windows: np.ndarray, sessions: np.ndarray, point: np.ndarray, volatility: np.ndarray
    ) -> np.ndarray:
        centre = point if self.centre is None else self.centre.apply(point, sessions)
        quantiles: np.ndarray = centre[:, None] + volatility[:, None] * self.offsets[None, :]
        return quantiles


@dataclass
class TreeQuantiles:
    boosters: list[Any]  # LightGBM boosters, one per level, in units of recent volatility
    sessions_used: int

    def raw_quantiles(
        self, windows: np.ndarray, sessions: np.ndarray, point: np.ndarray, volatility: np.ndarray
    ) -> np.ndarray:
        if len(windows) == 0:
            return np.zeros((0, len(self.boosters)))
        x = with_volatility(tabular(windows, self.sessions_used), volatility)
        columns = [np.asarray(booster.predict(x), np.float64) for booster in self.boosters]
        quantiles: np.ndarray = np.stack(columns, axis=1) * volatility[:, None]
        return quantiles


@dataclass
class HeadQuantiles:
    forecaster: Any  # the NetworkForecaster whose representation the head reads
    weight: np.ndarray  # (levels, hidden), in units of recent volatility
    bias: np.ndarray  # (levels,)

    def raw_quantiles(
        self, windows: np.ndarray, sessions: np.ndarray, point: np.ndarray, volatility: np.ndarray
    ) -> np.ndarray:
        represented = np.asarray(self.forecaster.represent(windows, sessions), np.float64)
        if len(represented) == 0:
            return np.zeros((0, len(self.bias)))
        quantiles: np.ndarray = (represented @ self.weight.T + self.bias) * volatility[:, None]
        return quantiles


@dataclass
class IntervalForecaster:
    """A family's quantile model with its conformal calibration, and the calibrated volatility
    baseline every interval is judged against."""

    model: QuantileModel
    calibration: IntervalCalibration
    baseline: IntervalCalibration
    volatility_halflife_sessions: float  # of the recent volatility both read

    @property
    def levels(self) -> list[float]:
        return self.calibration.levels

    def bands(
        self, windows: np.ndarray, sessions: np.ndarray, point: np.ndarray, volatility: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each sample's raw band, centre and scale (samples,): what a calibration scores an
        outcome against; `point`: the family's raw point forecasts of the same samples; NaN
        where volatility is unknown."""
        centre, scale = centre_and_scale(
            self.model.raw_quantiles(windows, sessions, point, volatility)
        )
        unknown = ~np.isfinite(volatility)
        centre[unknown], scale[unknown] = np.nan, np.nan
        return centre, scale

    def baseline_bands(self, volatility: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The volatility baseline's raw bands, centre and scale (samples,)."""
        return centre_and_scale(volatility_quantiles(volatility, self.levels))

    def baseline_quantiles(self, volatility: np.ndarray) -> np.ndarray:
        """The calibrated volatility baseline's quantiles (samples, levels)."""
        return self.baseline.apply_band(*self.baseline_bands(volatility))


def with_volatility(x: np.ndarray, volatility: np.ndarray) -> np.ndarray:
    """Tabular inputs with the log of recent volatility as a last column (NaN when unknown)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        column = np.log(np.asarray(volatility, np.float64)).astype(np.float32)
    return np.concatenate([x, column[:, None]], axis=1)
