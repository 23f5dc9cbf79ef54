"""The one code path from an aligned panel to feature arrays, shared by training and prediction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tickcast.features.indicators import compute_indicators
from tickcast.features.panel import PanelError, PricePanel
from tickcast.features.targets import forward_log_return


@dataclass(frozen=True)
class FeatureMatrix:
    """Rows after the indicators' warm-up: dates (T), values (T, stocks, features) and targets."""

    dates: pd.DatetimeIndex
    tickers: list[str]
    features: list[str]
    values: np.ndarray  # float64, NaN where an indicator is undefined (e.g. a flat window)
    targets: np.ndarray  # (T, stocks) forward log returns, NaN for the last `horizon` rows
    close: np.ndarray  # (T, stocks) raw close, to turn a predicted return into a price
    filled: np.ndarray  # (T, stocks) True where the session was forward-filled

    def select(self, features: list[str]) -> FeatureMatrix:
        """The same rows with a subset of the features, in the given order."""
        positions = [self.features.index(name) for name in features]
        return FeatureMatrix(
            self.dates,
            self.tickers,
            features,
            self.values[:, :, positions],
            self.targets,
            self.close,
            self.filled,
        )


def feature_matrix(
    panel: PricePanel, features: list[str], warmup: int, horizon: int
) -> FeatureMatrix:
    """Indicators on the panel, stacked per (session, ticker, feature), warm-up rows removed."""
    if len(panel.dates) <= warmup:
        raise ValueError(
            f"the panel has {len(panel.dates)} sessions, not more than the {warmup}-session "
            "indicator warm-up"
        )
    indicators = compute_indicators(panel, features)
    values = np.stack([indicators[name].to_numpy() for name in features], axis=-1)
    targets = forward_log_return(panel.adj_close, horizon).to_numpy()
    _require_finite(panel, "close", panel.close.to_numpy())
    _require_finite(panel, "target", targets)
    for position, name in enumerate(features):
        _require_finite(panel, f"feature {name}", values[:, :, position])
    return FeatureMatrix(
        dates=panel.dates[warmup:],
        tickers=list(panel.tickers),
        features=list(features),
        values=np.ascontiguousarray(values[warmup:]),
        targets=np.ascontiguousarray(targets[warmup:]),
        close=np.ascontiguousarray(panel.close.to_numpy()[warmup:]),
        filled=np.ascontiguousarray(panel.filled.to_numpy()[warmup:]),
    )


def _require_finite(panel: PricePanel, what: str, values: np.ndarray) -> None:
    """PanelError naming the first ticker and session where `values` is infinite (NaN stays:
    it marks an undefined indicator or a target beyond the data)."""
    infinite = np.argwhere(np.isinf(values))
    if len(infinite):
        row, column = infinite[0]
        raise PanelError(
            f"{what} is infinite for {panel.tickers[column]} on {panel.dates[row].date()} "
            f"({len(infinite)} such values): check the stored prices of {panel.tickers[column]} "
            "(tickcast validate) and re-ingest them with --full-refresh"
        )
