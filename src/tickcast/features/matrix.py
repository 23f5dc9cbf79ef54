"""The one code path from a ragged panel to the (session x ticker x feature) matrix, shared by
training and prediction.

Per ticker: its indicators (causal, tickcast.features.indicators), defined from the session its
warm-up ends on. Per session, across the tickers defined that day (causal too: one session's
values only): a cross-sectional rank or z-score of each indicator, the equal-weighted market
log return and each ticker's return relative to it. Rank, z-score and relative return are
scale-free, so a ticker the model never saw needs no scaler of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tickcast.config import FeatureSettings
from tickcast.features.indicators import compute_indicators
from tickcast.features.panel import PanelError, PricePanel
from tickcast.features.targets import forward_log_return
from tickcast.models.calibration import row_means

MARKET_FEATURES = ["market_return", "relative_return"]
_ZSCORE_CLIP = 5.0


@dataclass(frozen=True)
class FeatureMatrix:
    """Every session of the panel: values (T, tickers, features) and per (session, ticker) the
    target, the raw close, whether it was forward-filled and whether its features are defined."""

    dates: pd.DatetimeIndex
    tickers: list[str]
    features: list[str]
    values: np.ndarray  # float32, NaN where undefined (before warm-up, gaps, flat windows)
    targets: np.ndarray  # (T, tickers) forward log returns, NaN where the outcome is unknown
    close: np.ndarray  # (T, tickers) raw close, to turn a predicted return into a price
    filled: np.ndarray  # (T, tickers) True where the session was forward-filled
    defined: np.ndarray  # (T, tickers) True where the ticker trades and its warm-up is over
    # (T, tickers) adjusted close, which no split or dividend moves (None in datasets built
    # before it was kept: the raw close stands in)
    adj_close: np.ndarray | None = None

    @property
    def adjusted_close(self) -> np.ndarray:
        """What returns and realised volatility are measured on."""
        return self.close if self.adj_close is None else self.adj_close

    def select(self, features: list[str]) -> FeatureMatrix:
        """The same rows with a subset of the features, in the given order."""
        positions = [self.features.index(name) for name in features]
        return FeatureMatrix(
            self.dates,
            self.tickers,
            features,
            np.ascontiguousarray(self.values[:, :, positions]),
            self.targets,
            self.close,
            self.filled,
            self.defined,
            self.adj_close,
        )


def feature_names(settings: FeatureSettings) -> list[str]:
    """The matrix's feature names for `settings`, in order."""
    names = list(settings.indicators)
    if settings.cross_section != "none":
        names += [f"cs_{settings.cross_section}:{name}" for name in settings.indicators]
    if settings.market_context:
        names += MARKET_FEATURES
    return names


def feature_matrix(
    panel: PricePanel, settings: FeatureSettings, warmup: int, horizon: int
) -> FeatureMatrix:
    """Indicators, cross-sectional context and targets on the ragged panel."""
    close = panel.close.to_numpy()
    _require_finite(panel, "close", close)
    present = np.isfinite(close)
    first = np.where(present.any(axis=0), present.argmax(axis=0), len(panel.dates))
    defined = present & (np.arange(len(panel.dates))[:, None] - first[None, :] >= warmup)

    indicators = compute_indicators(panel, settings.indicators)
    columns = [indicators[name].to_numpy() for name in settings.indicators]
    for position, name in enumerate(settings.indicators):
        _require_finite(panel, f"feature {name}", columns[position])
    if settings.cross_section != "none":
        columns += [
            _cross_section(column, defined, settings.cross_section)
            for column in columns[: len(settings.indicators)]
        ]
    if settings.market_context:
        log_return = panel.adj_close.transform(np.log).diff().to_numpy()
        market = row_means(log_return, defined)[:, None]
        columns += [np.broadcast_to(market, log_return.shape), log_return - market]
    values = np.stack(columns, axis=-1)
    values[~defined] = np.nan
    targets = forward_log_return(panel.adj_close, horizon).to_numpy()
    _require_finite(panel, "target", targets)
    return FeatureMatrix(
        dates=panel.dates,
        tickers=list(panel.tickers),
        features=feature_names(settings),
        values=values.astype(np.float32),
        targets=np.ascontiguousarray(targets),
        close=np.ascontiguousarray(close),
        filled=np.ascontiguousarray(panel.filled.to_numpy()),
        defined=defined,
        adj_close=np.ascontiguousarray(panel.adj_close.to_numpy()),
    )


def _cross_section(values: np.ndarray, defined: np.ndarray, kind: str) -> np.ndarray:
    """Each session's values across its defined tickers: a centred rank in (-0.5, 0.5], or a
    z-score clipped to +-5."""
    masked = pd.DataFrame(np.where(defined, values, np.nan))
    if kind == "rank":
        ranked: np.ndarray = (masked.rank(axis=1, pct=True) - 0.5).to_numpy()
        return ranked
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = masked.mean(axis=1).to_numpy()[:, None]
        std = masked.std(axis=1, ddof=0).to_numpy()[:, None]
        scores = np.where(std > 0, (masked.to_numpy() - mean) / std, 0.0)
    return np.clip(
        np.where(np.isfinite(masked.to_numpy()), scores, np.nan), -_ZSCORE_CLIP, _ZSCORE_CLIP
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
