"""The one typed settings object: defaults < config/tickcast.yaml < TICKCAST_* environment.

Relative paths in the configuration (CSV data, embedded database, MLflow store, artifacts, KFP
folders) mean paths under the project root, the folder holding `config/`, wherever tickcast runs.
"""

from __future__ import annotations

import difflib
import itertools
import json
import os
import re
from collections.abc import Mapping
from datetime import date
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import psycopg
import yaml
from psycopg.conninfo import conninfo_to_dict
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    YamlConfigSettingsSource,
)

from tickcast.tickers import ticker_symbols

CONFIG_ENV_VAR = "TICKCAST_CONFIG"
DEFAULT_CONFIG_PATH = Path("config/tickcast.yaml")  # under the project root
URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # s3://, sqlite:///, http://, databricks:


class ConfigError(ValueError):
    """Configuration that cannot be loaded; the message names the key and the problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CsvSourceSettings(_Section):
    """A directory with one CSV file per ticker (file stem = ticker), and a file of splits and
    dividends (columns ticker, date, kind split|dividend, value) that is no ticker."""

    path: Path = Path("data/sample/stocknet")
    actions_path: Path | None = None  # None: <path>/actions/actions.csv, when it exists
    # adjusted: the files' Close is split-adjusted and Adj Close also dividend-adjusted (Yahoo,
    # Alpha Vantage); as_traded: prices as they traded, adjusted by tickcast from the actions.
    prices: Literal["adjusted", "as_traded"] = "adjusted"


class RegimeShiftSettings(_Section):
    """From `date` on, every synthetic ticker follows the new annual drift and volatility."""

    date: date
    annual_drift: float = Field(-0.15, ge=-5, le=5)
    annual_volatility: float = Field(0.45, gt=0, le=5)


class SyntheticSplitSettings(_Section):
    """A synthetic ticker's split: `ratio` new shares per old one (0.1: a 1:10 reverse split),
    effective from the first session on or after `date`."""

    ticker: str = Field(pattern=r"^SYN\d{3}$")
    date: date
    ratio: float = Field(gt=0, le=1000)


class SyntheticSourceSettings(_Section):
    """A seeded, correlated geometric-Brownian-motion market on the exchange calendar."""

    n_tickers: int = Field(20, ge=1, le=5000)
    start: date = date(2015, 1, 2)
    end: date | None = None  # None: the latest completed session
    seed: int = 7
    annual_drift: float = Field(0.07, ge=-5, le=5)
    annual_volatility: float = Field(0.25, gt=0, le=5)
    market_correlation: float = Field(0.5, ge=0, le=0.99)
    regime_shift: RegimeShiftSettings | None = None
    # A known, weak predictable component: each session, this fraction of every ticker's
    # previous idiosyncratic shock (its move apart from the market) is reversed; 0: no signal.
    # The shock itself predicts with a rank IC of about this value; yesterday's return less the
    # equal-weighted market's, which a model sees, recovers about two thirds of it (tickers'
    # different market exposures blur it): 0.05 -> 0.033, 0.1 -> 0.078 over 100 tickers.
    planted_reversal: float = Field(0.0, ge=0, le=1)
    # Volatility that clusters and can be seen coming: each ticker alternates calm and turbulent
    # spells of this many sessions on average (0: none); a turbulent spell is
    # `turbulent_volatility_multiple` times as volatile and trades that many times the volume,
    # from the session before it on (traders see it coming).
    volatility_spell_sessions: float = Field(0.0, ge=0, le=10_000)
    turbulent_volatility_multiple: float = Field(3.0, ge=1, le=20)
    # Corporate actions, off by default: these splits, and every ticker pays a dividend each
    # quarter of this annual yield. `prices`: as_traded gives prices as they traded (tickcast
    # adjusts them from the actions); adjusted gives them as Yahoo does, split-adjusted with a
    # dividend-adjusted close, re-written as of the newest session served.
    splits: list[SyntheticSplitSettings] = []
    dividend_yield: float = Field(0.0, ge=0, lt=0.5)
    prices: Literal["as_traded", "adjusted"] = "as_traded"

    @model_validator(mode="after")
    def _ordered(self) -> SyntheticSourceSettings:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if 0 < self.volatility_spell_sessions < 1:
            raise ValueError(
                f"volatility_spell_sessions {self.volatility_spell_sessions}: a spell lasts at "
                "least one session (0 turns the spells off)"
            )
        for split in self.splits:
            if int(split.ticker[3:]) >= self.n_tickers:
                raise ValueError(
                    f"split of {split.ticker}: the market has {self.n_tickers} tickers "
                    f"SYN000..SYN{self.n_tickers - 1:03d}"
                )
        return self


class YFinanceSourceSettings(_Section):
    """The Yahoo Finance client: retries with backoff and a pause when rate limited."""

    history_start: date = date(2010, 1, 1)
    retries: int = Field(3, ge=0, le=10)
    backoff_seconds: float = Field(2.0, ge=0)
    rate_limit_pause_seconds: float = Field(60.0, ge=0)
    pause_between_tickers_seconds: float = Field(0.2, ge=0)
    timeout_seconds: float = Field(30.0, gt=0)


class DataSettings(_Section):
    """Which price source ingestion reads, and the options of each source."""

    source: Literal["csv", "synthetic", "yfinance"] = "csv"
    csv: CsvSourceSettings = CsvSourceSettings()
    synthetic: SyntheticSourceSettings = SyntheticSourceSettings()
    yfinance: YFinanceSourceSettings = YFinanceSourceSettings()


class DatabaseSettings(_Section):
    """PostgreSQL: a URL, or (when none is set) an embedded server under `embedded_dir`."""

    url: str | None = None
    embedded_dir: Path = Path(".tickcast/pg")
    connect_retries: int = Field(5, ge=0, le=100)
    connect_backoff_seconds: float = Field(0.5, ge=0)

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if "://" in value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (leave empty for the embedded server)")
        try:
            conninfo_to_dict(value)
        except psycopg.ProgrammingError as error:
            raise ValueError(f"not a PostgreSQL URL or connection string: {error}") from None
        return value


class MlflowSettings(_Section):
    """Tracking server (or a local SQLite store), experiment and registered model names."""

    tracking_uri: str = "sqlite:///.tickcast/mlflow/mlflow.db"
    experiment: str = "tickcast"
    model_name: str = "tickcast-forecaster"
    production_alias: str = "production"


class PromotionSettings(_Section):
    """When a candidate replaces production: it must beat it on `metric` (test split of the
    candidate's dataset) by more than `min_improvement` (relative for error metrics, absolute
    for rank_ic), optionally beat persistence, and optionally win a one-sided paired test at
    `significance` (Diebold-Mariano on absolute errors; for rank_ic, the t-test of per-session
    rank IC differences). With `must_beat_baseline`, it must also beat that one-line baseline
    (tickcast.models.baselines) on the same rows by the same margin and test."""

    metric: Literal["mase", "mae", "rmse", "mape", "direction_accuracy", "rank_ic"] = "mase"
    min_improvement: float = Field(0.0, ge=0, lt=1)
    must_beat_persistence: bool = False
    significance: float | None = Field(None, gt=0, lt=0.5)  # None: any win promotes
    must_beat_baseline: Literal["reversal", "market"] | None = None


class ArtifactSettings(_Section):
    root: str = ".tickcast/artifacts"


class IngestSettings(_Section):
    """Bulk ingestion: rows per transaction, how long to wait for a concurrent ingest, and the
    overlap re-read to find re-written histories."""

    batch_rows: int = Field(200_000, ge=1)
    lock_wait_seconds: float = Field(0.0, ge=0)
    # Stored sessions each incremental fetch reads again (0: none). A source that re-wrote them
    # (a split or dividend re-adjusts all earlier prices) differs there by more than
    # `rebase_tolerance` (relative, on adjusted closes): the ticker is then re-read whole.
    overlap_sessions: int = Field(5, ge=0, le=250)
    rebase_tolerance: float = Field(1e-4, gt=0, le=0.5)


class ValidationSettings(_Section):
    """Price validation at ingest (tolerance) and the stored-data check of the daily run."""

    price_tolerance: float = Field(1e-6, ge=0, le=0.05)
    max_price: float = Field(1e7, gt=0)  # a higher price is a data error, not a stock
    lookback_sessions: int = Field(60, ge=2, le=2520)
    max_stale_sessions: int = Field(0, ge=0, le=60)
    max_missing_sessions: int = Field(2, ge=0, le=60)
    # A larger stored return that no split or dividend explains quarantines its ticker until
    # healed or accepted. Real one-day moves reach 0.67 in the sample (AGFS, 2016-11-09).
    outlier_log_return: float = Field(0.75, gt=0, le=5)
    # So does an adjusted close further (in log) than this from the median of its ticker's
    # previous `band_sessions` closes: a bad row reached step by step, or a ticker's level off
    # after an accepted jump. The sample reaches 0.86 (AGFS, 2016-11-10). None: no band.
    plausible_log_band: float | None = Field(1.5, gt=0, le=20)
    band_sessions: int = Field(20, ge=2, le=250)
    min_healthy_fraction: float = Field(0.8, ge=0, le=1)


class CalendarSettings(_Section):
    exchange: str = "XNYS"
    first_session: date = date(1990, 1, 2)

    @field_validator("exchange")
    @classmethod
    def _known_exchange(cls, value: str) -> str:
        import exchange_calendars

        names = exchange_calendars.get_calendar_names(include_aliases=True)
        if value not in names:
            close = difflib.get_close_matches(value.upper(), names, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else " (e.g. XNYS, XLON, XTKS)"
            raise ValueError(f"unknown exchange-calendars code {value!r}{hint}")
        return value


# Indicator names: fixed ones, or a kind with its window in sessions (e.g. rsi_14, sma_ratio_50).
INDICATOR_PATTERN = re.compile(
    r"^(log_return|return|macd|macd_signal|macd_hist"
    r"|(rsi|sma_ratio|ema_ratio|atr_ratio|bb_pband|bb_wband|volume_z|obv_change)_([1-9]\d{0,2}))$"
)
DEFAULT_INDICATORS = [
    "log_return",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_pband_20",
    "bb_wband_20",
    "atr_ratio_14",
    "sma_ratio_10",
    "sma_ratio_50",
    "ema_ratio_12",
    "ema_ratio_26",
    "volume_z_20",
    "obv_change_20",
]


class FeatureSettings(_Section):
    """Which indicators become model features, and an optional correlation filter."""

    indicators: list[str] = Field(default_factory=lambda: list(DEFAULT_INDICATORS), min_length=1)
    # Per session, across the tickers trading: each indicator's centred rank or z-score.
    cross_section: Literal["rank", "zscore", "none"] = "rank"
    # The equal-weighted market log return and each ticker's return relative to it.
    market_context: bool = True
    correlation_threshold: float | None = Field(None, gt=0, le=1)

    @field_validator("indicators")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if not INDICATOR_PATTERN.match(n)]
        if unknown:
            raise ValueError(
                f"unknown indicators {unknown}; known: log_return, return, macd, macd_signal, "
                "macd_hist, and rsi_N, sma_ratio_N, ema_ratio_N, atr_ratio_N, bb_pband_N, "
                "bb_wband_N, volume_z_N, obv_change_N (N in sessions)"
            )
        if len(set(names)) != len(names):
            raise ValueError("an indicator is listed twice")
        return names


class SplitSettings(_Section):
    """Chronological fractions of the samples; the test split gets the rest."""

    train: float = Field(0.7, gt=0, lt=1)
    validation: float = Field(0.15, gt=0, lt=1)

    @model_validator(mode="after")
    def _room_for_test(self) -> SplitSettings:
        if self.train + self.validation >= 1:
            raise ValueError("train + validation must leave a test split (sum < 1)")
        return self


class DatasetSettings(_Section):
    """How stored prices become a dataset version: history policy, target, windows and splits."""

    sequence_length: int = Field(20, ge=1, le=500)
    horizon: int = Field(1, ge=1, le=20)
    # What a model learns: raw, the forward log return; demeaned, less that session's mean over
    # the tickers; rank, its centred rank among the session's tickers (the default: it orders
    # best on validation over every family, bench/targets.py). Forecasts of the raw return come
    # from the calibration, and every band is of the raw return, whatever the target.
    target: Literal["raw", "demeaned", "rank"] = "rank"
    split: SplitSettings = SplitSettings()
    start: date | None = None  # None: from the first stored price
    # Fewer stored sessions leave a ticker out; None: warm-up + one window + the horizon.
    min_history_sessions: int | None = Field(None, ge=1)
    max_gap_sessions: int = Field(5, ge=0, le=60)


# Model families are found by name in this entry-point group (tickcast.families.registry);
# tickcast's own, in the order a search space lists them by default.
FAMILY_GROUP = "tickcast.families"
OWN_FAMILIES = ("lstm", "lstm_attention", "lstm_cross_stock", "ridge", "lightgbm")
ENSEMBLE = "ensemble"  # a family built from the others' best trials, never a search's member


def registered_families() -> list[str]:
    """The family names the installed packages register (read from their metadata)."""
    return sorted({point.name for point in entry_points(group=FAMILY_GROUP)})


def _registered(name: str) -> str:
    known = registered_families()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ValueError(f"unknown model family {name!r}{hint}; registered: {', '.join(known)}")
    return name


class ModelParams(_Section):
    """The hyperparameters a search explores (defaults: a sensible single training run). Each
    family reads its own: the LSTMs hidden_size .. batch_size; ridge and LightGBM read the last
    tabular_sessions of the window, flattened, and ridge_alpha or the tree parameters."""

    # The model family (tickcast.families); `architecture`, its old name, is still read.
    family: Annotated[str, AfterValidator(_registered)] = Field(
        "lstm", validation_alias=AliasChoices("family", "architecture")
    )
    hidden_size: int = Field(64, ge=1, le=4096)
    num_layers: int = Field(1, ge=1, le=8)
    dropout: float = Field(0.1, ge=0, lt=1)
    learning_rate: float = Field(1e-3, gt=0, le=1)
    batch_size: int = Field(
        256, ge=1, le=65536
    )  # samples (sessions for lstm_cross_stock: / tickers)
    tabular_sessions: int = Field(5, ge=1, le=500)
    ridge_alpha: float = Field(10.0, gt=0)
    num_leaves: int = Field(15, ge=2, le=4096)
    tree_learning_rate: float = Field(0.05, gt=0, le=1)
    n_estimators: int = Field(400, ge=1, le=100000)  # early-stopped on validation
    min_child_samples: int = Field(200, ge=1)
    # The ensemble family (tickcast.families.ensemble): the families it averages, and each one's
    # own parameters over these (the "train candidate" step fills them with the search's best
    # trial of each family when a search ran on the dataset)
    members: list[Annotated[str, AfterValidator(_registered)]] = Field(
        default_factory=lambda: ["ridge", "lightgbm", "lstm"], min_length=1
    )
    member_params: dict[str, dict[str, Any]] = {}

    @field_validator("members")
    @classmethod
    def _members(cls, members: list[str]) -> list[str]:
        if ENSEMBLE in members:
            raise ValueError("an ensemble cannot be a member of an ensemble")
        if len(set(members)) < len(members):
            raise ValueError(f"members must differ, got {members}")
        return members


class TrainingSettings(_Section):
    """The training loop: defaults for the model, early stopping, clipping, device, seed."""

    params: ModelParams = ModelParams()
    max_epochs: int = Field(30, ge=1, le=10000)
    patience: int = Field(5, ge=1)
    gradient_clip: float = Field(1.0, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    seed: int = 42
    device: Literal["auto", "cpu", "cuda"] = "auto"
    mixed_precision: bool = True  # on CUDA only
    # The learning curve and predictions-vs-actuals plots in each candidate's MLflow run (a
    # backtest's policies turn them off: hundreds of retrains nobody opens, a fifth of each).
    log_figures: bool = True


class SearchSpace(_Section):
    """What the hyperparameter search may choose from (ranges are [low, high])."""

    family: list[Annotated[str, AfterValidator(_registered)]] = Field(
        default_factory=lambda: list(OWN_FAMILIES),
        min_length=1,
        validation_alias=AliasChoices("family", "architecture"),
    )
    hidden_size: list[int] = Field(default_factory=lambda: [32, 64, 128], min_length=1)
    num_layers: list[int] = Field(default_factory=lambda: [1, 2], min_length=1)
    dropout: tuple[float, float] = (0.0, 0.3)
    learning_rate: tuple[float, float] = (1e-4, 1e-2)  # searched on a log scale
    batch_size: list[int] = Field(default_factory=lambda: [128, 256, 512], min_length=1)
    tabular_sessions: list[int] = Field(default_factory=lambda: [1, 5, 10], min_length=1)
    ridge_alpha: tuple[float, float] = (0.1, 1000.0)  # searched on a log scale
    num_leaves: list[int] = Field(default_factory=lambda: [7, 15, 31], min_length=1)
    tree_learning_rate: tuple[float, float] = (0.01, 0.1)  # searched on a log scale
    min_child_samples: list[int] = Field(default_factory=lambda: [50, 200, 1000], min_length=1)

    @model_validator(mode="after")
    def _ranges(self) -> SearchSpace:
        for name in ("dropout", "learning_rate", "ridge_alpha", "tree_learning_rate"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name} range must be 0 <= low <= high, got [{low}, {high}]")
        if self.dropout[1] >= 1:
            raise ValueError("dropout must stay below 1")
        if ENSEMBLE in self.family:
            raise ValueError(
                "the ensemble is not a search-space member (every trial would train every "
                "family): set training.params.family: ensemble, built from the search's best "
                "trial of each member family"
            )
        for name in ("learning_rate", "ridge_alpha", "tree_learning_rate"):
            if getattr(self, name)[0] <= 0:
                raise ValueError(f"{name} must be positive (searched on a log scale)")
        return self


class TuningSettings(_Section):
    """Hyperparameter search: Ray Tune (OptunaSearch + ASHA) or plain in-process Optuna."""

    backend: Literal["optuna", "ray"] = "optuna"
    trials: int = Field(12, ge=1, le=10000)
    max_epochs: int = Field(10, ge=1)  # per trial; ASHA stops poor trials earlier
    grace_period: int = Field(2, ge=1)
    reduction_factor: int = Field(3, ge=2)
    seed: int = 7
    ray_address: str | None = None  # None: a local Ray; "ray://head:10001" for a KubeRay cluster
    cpus_per_trial: float = Field(1.0, gt=0)
    # On a Ray cluster: always (its GPU workers scale up for them; 0 for a CPU-only cluster);
    # on a local Ray: only when the machine has GPUs.
    gpus_per_trial: float = Field(0.25, ge=0)
    space: SearchSpace = SearchSpace()


class EvaluationSettings(_Section):
    """How forecasts are judged beyond price errors: the trading cost charged to the quintile
    spread (basis points per unit of portfolio weight traded at each daily rebalance), and the
    share of the sessions offered on which a cross-sectional figure (IC, rank IC, spread) must be
    judged to be shown at all (fewer: "not judged", with the reason)."""

    cost_bps: float = Field(5.0, ge=0, le=1000)
    min_judged_share: float = Field(0.5, gt=0, le=1)
    # The `market` baseline: the market's mean daily return over this many recent sessions.
    market_sessions: int = Field(20, ge=1, le=2520)


class IntervalSettings(_Section):
    """Forecast intervals: the quantile levels of the next log return every model forecasts (the
    outermost pair is the central interval that is judged: 0.1 and 0.9 promise 80%), and the
    half-life of the realised volatility behind the baseline interval."""

    levels: list[float] = Field(default_factory=lambda: [0.1, 0.5, 0.9], min_length=2)
    volatility_halflife_sessions: float = Field(10.0, gt=0, le=1000)
    # Once a model has `recalibration_min_sessions` scored sessions, its intervals (and the
    # baseline's) are recalibrated on its own outcomes of the newest `recalibration_sessions`
    # sessions (split conformal on a rolling window); null: the bundle's validation calibration.
    recalibration_sessions: int | None = Field(60, ge=1, le=5000)
    recalibration_min_sessions: int = Field(20, ge=1, le=5000)
    # On top of that (composed, not replacing it), every quantile adapts online after each scored
    # session (tickcast.models.adaptive_intervals): its offset, in units of the band's scale,
    # moves by `adaptive_step` x (share of outcomes above it - its promised share), at most
    # `adaptive_bound` either way; null: off.
    adaptive_step: float | None = Field(1.0, gt=0, le=10)
    adaptive_bound: float = Field(10.0, gt=0, le=100)

    @field_validator("levels")
    @classmethod
    def _increasing_probabilities(cls, levels: list[float]) -> list[float]:
        if any(not 0 < level < 1 for level in levels):
            raise ValueError(f"levels must lie strictly between 0 and 1, got {levels}")
        if any(b <= a for a, b in itertools.pairwise(levels)):
            raise ValueError(f"levels must be strictly increasing, got {levels}")
        return levels

    @model_validator(mode="after")
    def _enough_sessions(self) -> IntervalSettings:
        window = self.recalibration_sessions
        if window is not None and self.recalibration_min_sessions > window:
            raise ValueError(
                f"recalibration_min_sessions {self.recalibration_min_sessions} is more than "
                f"recalibration_sessions {window}: the window could never hold enough"
            )
        return self

    @property
    def nominal_coverage(self) -> float:
        """What the central interval promises: the distance of the outermost levels."""
        return self.levels[-1] - self.levels[0]


class MonitoringSettings(_Section):
    """Scoring stored forecasts: the rolling window and the drift reference."""

    window_sessions: int = Field(20, ge=1, le=1000)  # trading days pooled in rolling metrics
    drift_sessions: int = Field(60, ge=1, le=5000)  # recent sessions compared with training (PSI)
    drift_bins: int = Field(10, ge=2, le=100)  # quantile bins of the training reference


class DecisionSettings(_Section):
    """When the daily run asks for retraining. Start strict, then tune to the market you trade:
    "tomorrow = today" already scores about 1-1.5% MAPE on large caps."""

    max_mape: float = Field(2.5, gt=0)  # rolling MAPE, percent
    min_direction_accuracy: float = Field(0.45, ge=0, le=1)
    max_mase: float = Field(1.25, gt=0)  # rolling MAE / persistence MAE
    # Retrain when the rolling rank IC (across tickers per session, mean over the window) falls
    # below this; None: reported, never a reason on its own.
    min_rank_ic: float | None = Field(None, ge=-1, le=1)
    # Largest feature drift (PSI) that still keeps the model; None: drift is measured and
    # reported but never a reason on its own. Off by default: level features (volatility,
    # volume) drift against the training rows for months at a time, a retrained model's training
    # rows end as far back, and a backtest showed the retrains it caused bought nothing.
    max_psi: float | None = Field(None, gt=0)
    # Retrain when the rolling coverage of the central interval (intervals.levels' outermost
    # pair) leaves [low, high], e.g. [0.7, 0.9] around a promised 80%; None: reported only.
    coverage_band: tuple[float, float] | None = None
    # Sessions since the model's data ended or, if later, since it was last challenged by a
    # retrain (a model that survived a challenge on fresh data is as fresh as the challenger).
    max_model_age_sessions: int = Field(60, ge=1)
    min_scored_sessions: int = Field(5, ge=1)  # fewer scored sessions: too early to judge
    cooldown_sessions: int = Field(5, ge=0)  # no new retrain within this many sessions of one

    @field_validator("coverage_band")
    @classmethod
    def _ordered_band(cls, band: tuple[float, float] | None) -> tuple[float, float] | None:
        if band is not None and not 0 <= band[0] < band[1] <= 1:
            raise ValueError(f"coverage_band must be [low, high] with 0 <= low < high <= 1: {band}")
        return band


class KfpSettings(_Section):
    """Where the pipelines run: kfp.local in this environment, or a Kubeflow Pipelines API."""

    host: str | None = None  # None: the in-cluster API (service-account auth) inside a pod
    namespace: str = "kubeflow"
    # Multi-user Kubeflow: the profile namespace that tickcast's pipelines, experiments and runs
    # belong to (it must be given: pods have no user context). None: standalone KFP.
    user_namespace: str | None = None
    experiment: str = "tickcast"
    pipelines_dir: str = "pipelines"  # the compiled <name>.yaml files
    local_root: str = ".tickcast/kfp"  # kfp.local outputs: one folder per run and task
    # How long a pipeline's first step (init database) waits for PostgreSQL and an MLflow
    # server to answer (0: not at all). The chart sets it: on a first install the bootstrap run
    # may start before them.
    stores_wait_seconds: float = Field(0.0, ge=0)


MIN_TOKEN_CHARACTERS = 16


class AuthSettings(_Section):
    """Bearer tokens the HTTP API requires (none: the API is open). With any, every endpoint but
    the health checks (/healthz, /livez, /readyz), the dashboard's page and assets (it asks for
    a token) and, unless `metrics_open` is false, /metrics answers 401 without one of them.
    Several tokens let one be rotated without a gap."""

    # TICKCAST_SERVING__AUTH__TOKENS: comma-separated (the chart reads it from a Secret)
    tokens: Annotated[list[SecretStr], NoDecode] = []
    metrics_open: bool = True  # /metrics without a token (a scraper inside the cluster)

    @field_validator("tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in re.split(r"[,\s]+", value) if part]
        return value

    @field_validator("tokens")
    @classmethod
    def _long_enough(cls, value: list[SecretStr]) -> list[SecretStr]:
        for number, token in enumerate(value, start=1):
            length = len(token.get_secret_value())
            if length < MIN_TOKEN_CHARACTERS:
                raise ValueError(
                    f"token {number} has {length} characters: a bearer token needs at least "
                    f"{MIN_TOKEN_CHARACTERS} (e.g. python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))')"
                )
        return value


class ServingSettings(_Section):
    """The BentoML service: where it listens, how it follows the production alias, and who may
    call it."""

    host: str = "127.0.0.1"
    port: int = Field(3000, ge=1, le=65535)
    poll_seconds: float = Field(30.0, gt=0)  # how often the production alias is checked
    data_check_seconds: float = Field(1.0, ge=0)  # how often new prices are looked for
    history_sessions: int = Field(60, ge=1, le=2520)  # default `days` of the history endpoints
    auth: AuthSettings = AuthSettings()


class RetentionSettings(_Section):
    """`tickcast gc`: what may go. Never production, the versions a rollback walks back to, or
    the last `keep_promoted` promoted versions' datasets; forecasts, scores, decisions and
    search results in PostgreSQL are history and stay."""

    enabled: bool = True  # false: the daily run's retention step removes nothing
    # Promoted versions kept whole (their files and their datasets'); older promoted ones are
    # archived: tagged, their files deleted, never promoted again
    keep_promoted: int = Field(5, ge=1, le=1000)
    rejected_days: float = Field(30.0, ge=0)  # rejected candidates' runs and versions older go
    dataset_days: float = Field(7.0, ge=0)  # younger dataset versions stay (a run may use them)
    results_days: float = Field(14.0, ge=0)  # Ray's search folders and kfp.local runs older go


class BackupSettings(_Section):
    """`tickcast db backup|restore`: the tickcast database, the MLflow store and a local artifact
    root in one folder (an object-store artifact root is assumed durable and not copied)."""

    keep: int = Field(7, ge=1, le=1000)  # backups kept at a destination; older ones removed
    # The MLflow server's backend store (postgresql://...) when mlflow.tracking_uri is a server:
    # a backup dumps it (a local SQLite store or a database tracking URI needs nothing here)
    mlflow_database_url: str | None = None

    @field_validator("mlflow_database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("postgresql://", "postgres://", "postgresql+")):
            raise ValueError("must be a postgresql:// URL (the MLflow server's backend store)")
        return value


AlertKind = Literal[
    "daily_failed",
    "retrain_decided",
    "candidate_promoted",
    "candidate_rejected",
    "coverage_breach",
    "tickers_quarantined",
    "tickers_stale",
    "test",  # `tickcast alerts test`
]


class WebhookSettings(_Section):
    """One receiver of alert events: a URL (secret: a Slack webhook's is its credential), the
    body it reads and the events it wants."""

    url: SecretStr
    format: Literal["json", "slack"] = "json"  # slack: {"text": ...}
    events: list[AlertKind] = []  # empty: every event

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class AlertSettings(_Section):
    """Events pushed to webhooks (and stored in the `alerts` table): a failed daily run, a
    retrain decided, a candidate promoted or rejected, interval coverage out of its band,
    tickers quarantined or stale. A webhook that is down never fails a run."""

    enabled: bool = True  # false: no event is stored or sent (a backtest's replays)
    # TICKCAST_ALERTS__WEBHOOKS: a JSON list, e.g. [{"url": "https://hooks.slack.com/…",
    # "format": "slack"}] (the chart reads it from a Secret)
    webhooks: list[WebhookSettings] = []
    timeout_seconds: float = Field(10.0, gt=0, le=10)  # per event, every retry included
    # The rolling coverage of the central interval may stray this far from its promise
    coverage_tolerance: float = Field(0.1, gt=0, lt=0.5)
    stale_sessions: int = Field(3, ge=1)  # a ticker further behind is reported stale


class Settings(BaseSettings):
    """Everything tickcast reads from configuration, in one object."""

    model_config = SettingsConfigDict(
        env_prefix="TICKCAST_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    tickers: Annotated[list[str], NoDecode] = []
    data: DataSettings = DataSettings()
    database: DatabaseSettings = DatabaseSettings()
    mlflow: MlflowSettings = MlflowSettings()
    artifacts: ArtifactSettings = ArtifactSettings()
    ingest: IngestSettings = IngestSettings()
    validation: ValidationSettings = ValidationSettings()
    calendar: CalendarSettings = CalendarSettings()
    features: FeatureSettings = FeatureSettings()
    dataset: DatasetSettings = DatasetSettings()
    training: TrainingSettings = TrainingSettings()
    promotion: PromotionSettings = PromotionSettings()
    evaluation: EvaluationSettings = EvaluationSettings()
    intervals: IntervalSettings = IntervalSettings()
    tuning: TuningSettings = TuningSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    decision: DecisionSettings = DecisionSettings()
    kfp: KfpSettings = KfpSettings()
    serving: ServingSettings = ServingSettings()
    backup: BackupSettings = BackupSettings()
    alerts: AlertSettings = AlertSettings()
    retention: RetentionSettings = RetentionSettings()

    @field_validator("tickers", mode="before")
    @classmethod
    def _split_tickers(cls, value: Any) -> Any:
        """TICKCAST_TICKERS: `AAPL,MSFT`, `AAPL MSFT` or a YAML list `[AAPL, MSFT]`."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    return yaml.safe_load(text)
                except yaml.YAMLError as error:
                    raise ValueError(f"not a YAML list of tickers: {yaml_problem(error)}") from None
            return [part for part in re.split(r"[,\s]+", text) if part]
        return value

    @field_validator("tickers")
    @classmethod
    def _valid_tickers(cls, value: list[str]) -> list[str]:
        return ticker_symbols(value)

    def with_overrides(self, changes: dict[str, Any]) -> Settings:
        """A copy with nested `changes` merged in and validated again (CLI flags, tests)."""
        merged = _deep_merge(self.model_dump(), changes)
        try:
            return Settings.model_validate(merged)
        except ValidationError as error:
            raise ConfigError(_describe(error, None)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = settings_cls.model_config.get("yaml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)


def project_root(config: Path | None = None) -> Path:
    """The folder relative configuration paths live under: the one holding `config/`.

    That is the config file's grandparent when the file sits in a `config/` folder, else the
    nearest folder at or above the working directory holding config/tickcast.yaml, else the
    working directory.
    """
    if config is not None and config.resolve().parent.name == DEFAULT_CONFIG_PATH.parent.name:
        return config.resolve().parent.parent
    here = Path.cwd()
    return next((d for d in (here, *here.parents) if (d / DEFAULT_CONFIG_PATH).is_file()), here)


def config_path(explicit: Path | None = None) -> Path | None:
    """The YAML file to read: explicit path, else $TICKCAST_CONFIG, else the project root's
    config/tickcast.yaml (searched for from the working directory up), else none."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env)
    default = project_root() / DEFAULT_CONFIG_PATH
    return default if default.is_file() else None


# TICKCAST_* variables that are no setting but the project's own (images, tests, the config path).
OTHER_VARIABLES = {
    "TICKCAST_CONFIG",
    "TICKCAST_IMAGE_REGISTRY",
    "TICKCAST_IMAGE_TAG",
    "TICKCAST_IMAGE_PULL_SECRETS",
    "TICKCAST_TEST_DATABASE_URL",
}


# Keys that were renamed, where they stand: still read, with a warning naming the new key.
RENAMED_KEYS = {
    ("training", "params", "architecture"): "family",
    ("tuning", "space", "architecture"): "family",
}


def deprecated_keys(environ: Mapping[str, str], path: Path | None) -> list[str]:
    """A warning per renamed key set in the environment or the config file at `path`."""
    found = []
    for key, new in RENAMED_KEYS.items():
        *section, old = key
        prefix = "TICKCAST_" + "__".join(section).upper()
        variable = f"{prefix}__{old.upper()}"
        if any(name.upper() == variable for name in environ):
            found.append(f"{variable} is deprecated: set {prefix}__{new.upper()}")
    content = _yaml_mapping(path) if path is not None else {}
    for key, new in RENAMED_KEYS.items():
        place: Any = content
        for part in key[:-1]:
            place = place.get(part) if isinstance(place, dict) else None
        if isinstance(place, dict) and key[-1] in place:
            dotted = ".".join(key[:-1])
            found.append(f"{path}: {dotted}.{key[-1]} is deprecated: name it {dotted}.{new}")
    return found


def _yaml_mapping(path: Path) -> dict[str, Any]:
    try:
        content = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}  # reported by load_settings
    return content if isinstance(content, dict) else {}


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning per TICKCAST_* variable that names no setting (it would be silently ignored,
    e.g. TICKCAST_DATABASE_URL with one underscore), with the closest setting's variable."""
    known = set(OTHER_VARIABLES)
    for name, field in Settings.model_fields.items():
        known.add(f"TICKCAST_{name.upper()}")
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            known.update(f"TICKCAST_{name.upper()}__{key.upper()}" for key in section.model_fields)
    warnings = []
    for variable in sorted(environ):
        upper = variable.upper()
        if not upper.startswith("TICKCAST_") or upper in known:
            continue
        if any(upper.startswith(f"{prefix}__") for prefix in known if "__" in prefix):
            continue  # a key inside a nested section (e.g. TICKCAST_DATA__CSV__PATH)
        close = difflib.get_close_matches(upper, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(f"{variable} names no tickcast setting and is ignored{hint}")
    return warnings


def _unparsed_keys(section: str) -> list[str]:
    """The variables inside `section` (TICKCAST_<SECTION>__<KEY>...) that set a list or object
    with a value that is no JSON (when the section is not set whole)."""
    if section.upper() in {name.upper() for name in os.environ}:
        return []
    found = []
    for variable, value in sorted(os.environ.items()):
        if variable.upper().startswith(f"{section.upper()}__") and _takes_json(variable):
            try:
                json.loads(value)
            except ValueError:
                found.append(variable)
    return found


def _takes_json(variable: str) -> bool:
    """Whether the setting TICKCAST_<A>__<B>... names holds a list, a dict or a section."""
    model: type[BaseModel] = Settings
    annotation: Any = None
    for part in variable.upper().removeprefix("TICKCAST_").lower().split("__"):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    kinds = [annotation, *get_args(annotation)]
    return any(
        get_origin(kind) in (list, dict, tuple, set)
        or (isinstance(kind, type) and issubclass(kind, BaseModel | list | dict))
        for kind in kinds
    )


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Load settings with relative paths made absolute under the project root; raise
    ConfigError naming every bad key and its problem."""
    path = config_path(path)
    if path is not None:
        _check_yaml(path)

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(yaml_file=path)

    try:
        loaded = _FileSettings(**overrides)
    except ValidationError as error:
        raise ConfigError(_describe(error, path)) from None
    except SettingsError as error:  # a TICKCAST_* value that is not the JSON a section needs
        field = re.search(r'field "(\w+)"', str(error))
        name = f"TICKCAST_{field[1].upper()}" if field else "a TICKCAST_* variable"
        inner = _unparsed_keys(name)
        if inner:  # a key inside the section that needs JSON (a list, an object)
            raise ConfigError(
                f"invalid configuration: {', '.join(inner)} must be JSON (a list like "
                f'["a", "b"] or an object): {error.__cause__ or error}'
            ) from None
        raise ConfigError(
            f"invalid configuration: {name} must be a JSON object of the section's keys "
            f"(or set one key as {name}__<KEY>): {error.__cause__ or error}"
        ) from None
    return anchored(Settings.model_construct(**dict(loaded)), project_root(path))


def anchored(settings: Settings, root: Path) -> Settings:
    """`settings` with every relative local path made absolute under `root`."""

    def local(value: str) -> str:
        return value if URI_SCHEME.match(value) else str(root / Path(value).expanduser())

    def sqlite(uri: str) -> str:
        prefix = "sqlite:///"
        if uri.startswith(prefix) and not uri.removeprefix(prefix).startswith("/"):
            return prefix + str(root / uri.removeprefix(prefix))
        return local(uri)

    def section(model: BaseModel, **changes: Any) -> Any:
        return model.model_copy(update=changes)

    data, database, kfp = settings.data, settings.database, settings.kfp
    return settings.model_copy(
        update={
            "data": section(
                data,
                csv=section(
                    data.csv,
                    path=Path(local(str(data.csv.path))),
                    actions_path=(
                        Path(local(str(data.csv.actions_path))) if data.csv.actions_path else None
                    ),
                ),
            ),
            "database": section(database, embedded_dir=Path(local(str(database.embedded_dir)))),
            "mlflow": section(settings.mlflow, tracking_uri=sqlite(settings.mlflow.tracking_uri)),
            "artifacts": section(settings.artifacts, root=local(settings.artifacts.root)),
            "kfp": section(
                kfp, pipelines_dir=local(kfp.pipelines_dir), local_root=local(kfp.local_root)
            ),
        }
    )


# The sections a retraining policy may change (`tickcast backtest --policy FILE`).
POLICY_SECTIONS = ("decision", "promotion", "monitoring", "training", "tuning")


def apply_policy(settings: Settings, path: Path) -> Settings:
    """`settings` with a policy file's sections merged in; errors name the file and the key."""
    _check_yaml(path)
    content = yaml.safe_load(path.read_text()) or {}
    unknown = sorted(set(content) - set(POLICY_SECTIONS))
    if unknown:
        raise ConfigError(
            f"policy file {path}: {', '.join(unknown)} not a policy section "
            f"(allowed: {', '.join(POLICY_SECTIONS)})"
        )
    try:
        return settings.with_overrides(content)
    except ConfigError as error:
        raise ConfigError(f"policy file {path}: {error}") from None


def _deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _check_yaml(path: Path) -> None:
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        text = path.read_text()
        _refuse_aliases(text, path)
        content = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {yaml_problem(error)}") from None
    if content is not None and not isinstance(content, dict):
        raise ConfigError(
            f"config file {path} must hold a mapping of keys, not {type(content).__name__}"
        )


def _refuse_aliases(text: str, path: Path) -> None:
    """A configuration needs no YAML aliases, and a few nested ones expand to billions of nodes
    (an alias bomb): refuse them before anything is built."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1 if event.start_mark else "?"
            raise ConfigError(
                f"config file {path} line {line}: YAML aliases (*{event.anchor}) are not "
                "supported in tickcast configuration; write the values out"
            )


def yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error on one line: the problem and where it is."""
    if not isinstance(error, yaml.MarkedYAMLError) or error.problem_mark is None:
        return " ".join(str(error).split())
    mark = error.problem_mark
    context = f"{error.context}, " if error.context else ""
    return f"{context}{error.problem} (line {mark.line + 1}, column {mark.column + 1})"


# Settings whose values are credentials (a database URL holds its password, a Slack webhook's URL
# is its key): an error names them but never shows what was given.
SECRET_KEYS = frozenset({"url", "tokens", "mlflow_database_url", "password"})


def _describe(error: ValidationError, path: Path | None) -> str:
    origin = f" (from {path} and TICKCAST_* environment)" if path else ""
    lines = [f"invalid configuration{origin}:"]
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(root)"
        if SECRET_KEYS & {str(part) for part in problem["loc"]}:
            lines.append(f"  {key}: {problem['msg']} (the value is not shown: it holds a secret)")
        else:
            lines.append(f"  {key}: {problem['msg']} (got {_masked(problem.get('input'))!r})")
    return "\n".join(lines)


def _masked(value: Any) -> Any:
    """`value` with whatever sits under a secret key replaced by ***."""
    if isinstance(value, Mapping):
        return {k: "***" if k in SECRET_KEYS else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value
