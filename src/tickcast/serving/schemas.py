"""What the HTTP API answers: typed models, published in the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from tickcast.serving.holder import ReloadResult
from tickcast.tickers import TICKER_PATTERN

Ticker = Annotated[str, Field(min_length=1, max_length=16, pattern=TICKER_PATTERN)]


class IntervalFields(BaseModel):
    """The forecast's calibrated quantiles of the close and the volatility baseline's."""

    quantile_levels: list[float] | None = Field(
        None, description="Probability levels of the quantiles, e.g. [0.1, 0.5, 0.9]."
    )
    predicted_quantiles: list[float] | None = Field(
        None,
        description="The model's calibrated quantiles of the close at those levels: the close "
        "lands between the first and the last with the promised probability (0.9 - 0.1 = 80%).",
    )
    baseline_quantiles: list[float] | None = Field(
        None, description="The calibrated volatility baseline's quantiles at the same levels."
    )


class ForecastOut(IntervalFields):
    ticker: str
    target_date: date = Field(description="The trading session forecast.")
    predicted_close: float
    predicted_log_return: float
    last_close: float
    last_close_date: date


class SkippedOut(BaseModel):
    ticker: str
    reason: str = Field(description="Why it has no forecast: stale, too little history, a gap.")


class PredictResponse(BaseModel):
    model_version: int
    as_of: date = Field(description="The newest stored session the forecasts are built from.")
    target_date: date
    forecasts: list[ForecastOut]
    skipped: list[SkippedOut] = Field(
        default_factory=list, description="Tickers asked for (or stored) without a forecast."
    )
    interval_calibration: str | None = Field(
        None,
        description="Which calibration the intervals used: the model's validation sessions, or "
        "its own newest outcomes once it has enough (null: no intervals).",
    )


class StoredForecast(IntervalFields):
    """A forecast the daily run stored, with its outcome once the target session closed."""

    target_date: date
    ticker: str
    model_version: int
    predicted_close: float
    predicted_log_return: float
    last_close: float
    last_close_date: date
    actual_close: float | None = None
    abs_error: float | None = None
    pct_error: float | None = None
    direction_hit: bool | None = None
    persistence_abs_error: float | None = None


class LatestPredictions(BaseModel):
    target_date: date | None
    predictions: list[StoredForecast]


class Close(BaseModel):
    date: date
    close: float


class TickerHistory(BaseModel):
    ticker: str
    predictions: list[StoredForecast]
    closes: list[Close]


class TickersOut(BaseModel):
    model_version: int
    tickers: list[str]


class Promotion(BaseModel):
    decided_at: datetime
    action: str
    candidate_version: int | None
    production_before: int | None
    production_after: int | None
    promoted: bool
    bootstrap: bool
    reason: str


class ModelOut(BaseModel):
    name: str
    version: int
    run_id: str
    dataset_id: str
    tickers: int
    registered_at: datetime
    loaded_at: datetime
    test_metrics: dict[str, float] = Field(
        description="test_* metrics of the training run: the model's and persistence's (MASE 1)."
    )
    promotions: list[Promotion] = Field(description="The promotion audit, newest first.")
    last_reload: ReloadResult | None


class PerformancePoint(BaseModel):
    """Rolling metrics over the window of sessions ending on target_date, pooled across tickers."""

    target_date: date
    samples: int
    mape: float
    direction_accuracy: float
    mase: float
    persistence_mape: float
    up_rate: float
    rank_ic: float | None = Field(
        None, description="Mean per-session rank IC across tickers (None: not judged)."
    )
    rank_ic_t: float | None = Field(None, description="Its Newey-West t-statistic.")
    ic_sessions: int = Field(0, description="Sessions the cross-sectional figures judged.")
    ic_sessions_offered: int = Field(0, description="Sessions with a forecast and an outcome.")
    not_judged: str | None = Field(
        None, description="Why no rank IC is given (too few sessions judged); null when it is."
    )
    reversal_mase: float | None = Field(
        None, description="The reversal baseline's MASE on the same rows (None: not stored)."
    )
    reversal_rank_ic: float | None = Field(
        None, description="The reversal baseline's rank IC on the same rows."
    )
    market_mase: float | None = Field(
        None, description="The market baseline's MASE on the same rows (None: not stored)."
    )
    interval_coverage: float | None = Field(
        None, description="Share of the window's closes inside their central interval."
    )
    interval_nominal: float | None = Field(None, description="What that interval promises.")
    baseline_interval_coverage: float | None = Field(
        None, description="The calibrated volatility baseline's coverage on the same rows."
    )


class PerformanceOut(BaseModel):
    window_sessions: int
    points: list[PerformancePoint]


class Readiness(BaseModel):
    ready: bool
    reason: str | None = Field(None, description="Why the service is not ready; null when it is.")
    model_version: int | None
    database: str
    last_reload: ReloadResult | None
