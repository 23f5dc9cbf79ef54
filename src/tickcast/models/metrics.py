"""Forecast metrics, used everywhere a forecast is judged: on price, on direction, against
persistence (tomorrow's close = today's close) on exactly the same rows, and across tickers
(IC, rank IC, quintile spread: tickcast.models.cross_section)."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
from pydantic import BaseModel

from tickcast.config import EvaluationSettings
from tickcast.models.cross_section import judge


class ForecastMetrics(BaseModel):
    """Pooled over every (day, ticker) with a known outcome."""

    samples: int
    mae: float  # price units
    rmse: float
    mape: float  # percent
    direction_accuracy: float  # share of rows whose predicted sign (up: > 0) matched
    up_rate: float  # share of up moves: the accuracy of always saying "up"
    mase: float  # mae / persistence mae on the same rows; < 1 beats persistence
    persistence_mae: float
    return_rmse: float  # on log returns, the training loss scale
    # Across tickers, per session, then over the sessions judged, t-statistics Newey-West (None:
    # too few sessions judged, e.g. persistence's equal forecasts, or no session grouping given).
    ic_sessions: int = 0  # sessions judged
    ic_sessions_offered: int = 0  # sessions with a forecast and an outcome
    not_judged: str | None = None  # why the figures are withheld
    distinct_forecasts: float | None = None  # median number of different forecasts a session
    ic: float | None = None
    ic_ir: float | None = None
    ic_t: float | None = None
    rank_ic: float | None = None
    rank_ic_ir: float | None = None
    rank_ic_t: float | None = None
    spread_bps: float | None = None  # top minus bottom quintile, daily, basis points
    spread_net_bps: float | None = None  # less evaluation.cost_bps per unit traded
    spread_net_t: float | None = None

    def rank_ic_text(self) -> str:
        """ "0.031 (t 2.4; 150/165 sessions)", "not judged: 3/709 sessions, <why>" or "-"."""
        return rank_ic_text(
            self.rank_ic,
            self.rank_ic_t,
            self.ic_sessions,
            self.ic_sessions_offered,
            self.not_judged,
        )

    def spread_text(self) -> str:
        """Net quintile spread in basis points a day with its t; "-" where undefined."""
        if self.spread_net_bps is None:
            return "not judged" if self.ic_sessions_offered else "-"
        return f"{self.spread_net_bps:.1f}" + _t(self.spread_net_t)

    def distinct_text(self) -> str:
        """The median number of different forecasts a session ("-": no session grouping)."""
        return "-" if self.distinct_forecasts is None else f"{self.distinct_forecasts:g}"

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        """Every defined figure as a float (what MLflow logs; `not_judged` is text)."""
        return {
            f"{prefix}{key}": float(value)
            for key, value in self.model_dump(exclude={"not_judged"}).items()
            if value is not None
        }


def rank_ic_text(
    rank_ic: float | None,
    t: float | None,
    judged: int | None,
    offered: int | None,
    not_judged: str | None = None,
) -> str:
    """A rank IC with its t and the sessions it rests on; "not judged" with the reason where too
    few sessions were judged; "-" where no session was offered."""
    rests_on = f"{judged or 0}/{offered} sessions" if offered else ""
    if rank_ic is None:
        if not offered:
            return "-"
        return f"not judged: {rests_on}" + (f", {not_judged}" if not_judged else "")
    inside = "; ".join(part for part in (_t(t).strip(" ()"), rests_on) if part)
    return f"{rank_ic:.3f}" + (f" ({inside})" if inside else "")


def _t(t: float | None) -> str:
    return "" if t is None else f" (t {t:.1f})"


def forecast_metrics(
    predicted: np.ndarray,
    actual: np.ndarray,
    last_close: np.ndarray,
    *,
    sessions: np.ndarray | None = None,
    tickers: np.ndarray | None = None,
    evaluation: EvaluationSettings = EvaluationSettings(),
) -> ForecastMetrics:
    """Metrics of predicted log returns against actual ones; prices are close x exp(return).

    Arrays shaped (sessions, tickers) carry their own grouping; flat arrays (one row per
    forecast) get the cross-sectional figures only with `sessions` and `tickers` of each row;
    `evaluation` sets the spread's trading cost and the share of sessions a figure needs.
    """
    predicted, actual, last_close = (
        np.asarray(a, dtype=np.float64) for a in (predicted, actual, last_close)
    )
    if not predicted.shape == actual.shape == last_close.shape:
        raise ValueError(f"shapes differ: {predicted.shape}, {actual.shape}, {last_close.shape}")
    if predicted.ndim == 2:
        sessions, tickers = (np.asarray(grid) for grid in np.indices(predicted.shape))
    known = np.isfinite(actual) & np.isfinite(predicted) & np.isfinite(last_close)
    if not known.any():
        raise ValueError("no row has a known outcome")
    cross = None
    if sessions is not None and tickers is not None:
        cross = judge(
            predicted[known],
            actual[known],
            np.asarray(sessions)[known],
            np.asarray(tickers)[known],
            cost_bps=evaluation.cost_bps,
            min_share=evaluation.min_judged_share,
        )
    predicted, actual, last_close = predicted[known], actual[known], last_close[known]
    actual_price = last_close * np.exp(actual)
    error = last_close * np.exp(predicted) - actual_price
    persistence_error = last_close - actual_price
    mae, persistence_mae = float(np.abs(error).mean()), float(np.abs(persistence_error).mean())
    return ForecastMetrics(
        samples=int(known.sum()),
        mae=mae,
        rmse=float(np.sqrt((error**2).mean())),
        mape=float((np.abs(error) / actual_price).mean() * 100),
        direction_accuracy=float(((predicted > 0) == (actual > 0)).mean()),
        up_rate=float((actual > 0).mean()),
        mase=mae / persistence_mae if persistence_mae > 0 else float("nan"),
        persistence_mae=persistence_mae,
        return_rmse=float(np.sqrt(((predicted - actual) ** 2).mean())),
        **(asdict(cross) if cross is not None else {}),
    )
