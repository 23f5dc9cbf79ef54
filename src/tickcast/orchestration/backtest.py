"""Walk-forward backtest of retraining policies on the same sessions, with the real daily logic.

Each session the store gets that session's prices and nothing later (ingest with end=day), then
every policy runs the daily flow on it (predict, monitor, decide, retrain, promote) under its own
registered model name, so policies never share forecasts, decisions or models. Policies:
`continuous` (the configured decision rules, or one policy per `--policy` file), `train_once`
(bootstrap, then never retrain), `fixed_schedule` (retrain every N sessions, promoted by the
same rule) and `persistence` ("tomorrow = today", scored on the same rows). Leak-free by
construction: no step can read a price after its date because none is stored yet, and stores
that already hold later prices or the policies' models are refused.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tickcast.artifacts import artifact_uri, open_artifact
from tickcast.config import EvaluationSettings, Settings
from tickcast.data.calendar import configured_calendar
from tickcast.data.ingest import ingest_prices
from tickcast.data.universe import TODAYS_TICKERS, stored_universe, universe_label
from tickcast.db.connection import open_connection
from tickcast.db.decisions import decisions
from tickcast.db.forecasts import scored_rows
from tickcast.db.migrate import ensure_schema
from tickcast.db.prices import load_prices, newest_trade_date
from tickcast.db.promotions import promotion_history
from tickcast.models.baselines import BASELINES, daily_returns, market_returns
from tickcast.models.intervals import IntervalMetrics
from tickcast.models.metrics import ForecastMetrics
from tickcast.models.regimes import HISTORY_SESSIONS, turbulent_sessions
from tickcast.ops.decide import rule_counts
from tickcast.ops.monitor import scored_baselines, scored_intervals, scored_metrics
from tickcast.orchestration.errors import BacktestError
from tickcast.orchestration.runner import retrain, run_daily

Policy = Literal["continuous", "train_once", "fixed_schedule"]
# Decision rules that never fire: train-once and fixed-schedule only retrain when told to.
NEVER: dict[str, object] = {
    "max_mape": 1e9,
    "min_direction_accuracy": 0.0,
    "max_mase": 1e9,
    "min_rank_ic": None,
    "coverage_band": None,
    "max_psi": None,
    "max_model_age_sessions": 10**9,
}


class RegimeScore(BaseModel):
    """A row's figures on the calm or the turbulent sessions alone (tickcast.models.regimes)."""

    sessions: int
    metrics: ForecastMetrics | None = None
    intervals: IntervalMetrics | None = None

    def values(self) -> list[str]:
        """Sessions, MASE, rank IC (t) and coverage, as shown."""
        if self.metrics is None:
            return [str(self.sessions), "-", "-", "-"]
        coverage = self.intervals.coverage_text() if self.intervals else "-"
        return [
            str(self.sessions),
            f"{self.metrics.mase:.4f}",
            self.metrics.rank_ic_text(),
            coverage,
        ]

    def cells(self) -> str:
        return " | ".join(self.values())


class PolicyResult(BaseModel):
    policy: str
    metrics: ForecastMetrics | None  # over every scored forecast of the backtest
    retrains: int  # retraining runs after the bootstrap
    promotions: int  # of which promoted
    seconds: float  # compute time of the policy's daily flow and retrains
    retrain_seconds: float = 0.0  # of which retraining (the bootstrap included)
    replay_seconds_per_session: float = 0.0  # the daily flow alone, per replayed session
    triggers: dict[str, int] = {}  # decision rule -> retrain decisions it fired in (continuous)
    # The central interval on the same rows (persistence: the volatility baseline's).
    intervals: IntervalMetrics | None = None
    # The same figures on the calm and the turbulent sessions alone
    regimes: dict[str, RegimeScore] = {}

    def coverage_text(self) -> str:
        return self.intervals.coverage_text() if self.intervals else "-"

    def width_text(self) -> str:
        width = self.intervals.width_pct if self.intervals else None
        return f"{width:.2f}" if width is not None else "-"

    def describe_triggers(self) -> str:
        ranked = sorted(self.triggers.items(), key=lambda item: -item[1])
        return ", ".join(f"{rule} {count}" for rule, count in ranked)


class BacktestResult(BaseModel):
    start: date
    end: date
    sessions: int
    tickers: int
    schedule_sessions: int
    policies: list[PolicyResult]
    report_uri: str
    mlflow_run_id: str
    universe: str = TODAYS_TICKERS

    def markdown(self) -> str:
        rows = [
            f"| {p.policy} | {m.mape:.3f} | {m.rmse:.3f} | {m.direction_accuracy:.3f} | "
            f"{m.up_rate:.3f} | {m.mase:.3f} | {m.rank_ic_text()} | {m.spread_text()} | "
            f"{p.coverage_text()} | {p.width_text()} | "
            f"{p.retrains} | {p.promotions} | {p.seconds:.0f} |"
            for p in self.policies
            if (m := p.metrics) is not None
        ]
        return (
            "\n".join(
                [
                    f"# Walk-forward backtest {self.start} to {self.end}",
                    "",
                    f"{self.sessions} sessions, {self.tickers} tickers ({self.universe}); "
                    "fixed schedule: every "
                    f"{self.schedule_sessions} sessions. Metrics pool every scored next-session "
                    "forecast; persistence is scored on the same rows (MASE 1 by definition), "
                    "and its interval is the calibrated volatility baseline's; so are the "
                    "one-line baselines stored beside the first policy's forecasts (reversal: "
                    "-b x today's return relative to the market; market: the market's recent "
                    "mean return; both fitted with each of its versions). Rank IC: Newey-West "
                    "t and the sessions judged out of those offered.",
                    "",
                    "| policy | MAPE % | RMSE | direction | up-day rate | MASE | rank IC (t) "
                    "| spread bp (net) | interval coverage (Kupiec p) | width % | retrains "
                    "| promotions | seconds |",
                    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
                    "| ---: | ---: |",
                    *rows,
                    "",
                    "The same rows on calm and turbulent sessions (turbulent: the market's "
                    "20-session realised volatility above twice its 250-session median):",
                    "",
                    "| policy | calm sessions | MASE | rank IC (t) | coverage | turbulent "
                    "sessions | MASE | rank IC (t) | coverage |",
                    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
                    *[
                        f"| {p.policy} | {p.regimes['calm'].cells()} | "
                        f"{p.regimes['turbulent'].cells()} |"
                        for p in self.policies
                        if p.regimes
                    ],
                    "",
                    "![rolling MAPE](rolling_mape.png)",
                    *self._triggers(),
                ]
            )
            + "\n"
        )

    def _triggers(self) -> list[str]:
        """The decision rules behind each continuous policy's retrains (none: no section)."""
        found = [f"- {p.policy}: {p.describe_triggers()}" for p in self.policies if p.triggers]
        if not found:
            return []
        heading = "Decision rules behind each continuous policy's retrains (a retrain can have "
        return ["", heading + "several):", "", *found]


def policy_settings(settings: Settings, name: str, policy: Policy) -> Settings:
    """The policy's own registered model and, unless continuous, rules that never fire; no
    alerts (a replay of history is nobody's emergency)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    overrides: dict[str, object] = {
        "mlflow": {"model_name": f"{settings.mlflow.model_name}-backtest-{slug}"},
        "training": {"log_figures": False},  # the report plots the policies; retrains need none
        "alerts": {"enabled": False},
    }
    if policy != "continuous":
        overrides["decision"] = NEVER
    return settings.with_overrides(overrides)


def backtest_policies(
    settings: Settings, continuous: dict[str, Settings] | None = None, baselines: bool = True
) -> dict[str, tuple[Policy, Settings]]:
    """Policies by name: the continuous ones (default: the configured rules), then (with
    `baselines`) train-once and fixed-schedule."""
    variants = continuous or {"continuous": settings}
    policies: dict[str, tuple[Policy, Settings]] = {
        name: ("continuous", policy_settings(configured, name, "continuous"))
        for name, configured in variants.items()
    }
    for policy in ("train_once", "fixed_schedule") if baselines else ():
        policies[policy] = (policy, policy_settings(settings, policy, policy))
    return policies


def backtest(
    settings: Settings,
    start: date,
    end: date,
    schedule_sessions: int = 20,
    search: bool = False,
    on_day: Callable[[date], None] | None = None,
    continuous: dict[str, Settings] | None = None,
    baselines: bool = True,
) -> BacktestResult:
    """Bootstrap every policy on `start`, then replay each session after it up to `end`.

    `continuous` names the continuous-training policies to compare (settings differing in their
    decision, promotion, monitoring, training or tuning sections); default: the configured one.
    """
    calendar = configured_calendar(settings)
    sessions = calendar.sessions_between(start, end)
    if len(sessions) < 3:
        raise BacktestError(f"{start} to {end} holds {len(sessions)} sessions; a backtest needs 3")
    policies = backtest_policies(settings, continuous, baselines)
    _require_clean_stores(settings, policies, sessions[0])
    seconds = {name: {"replay": 0.0, "retrain": 0.0} for name in policies}

    def timed_retrain(name: str, configured: Settings, day: date) -> None:
        started = time.perf_counter()
        retrain(configured, day, search=search)
        seconds[name]["retrain"] += time.perf_counter() - started

    ingest_prices(settings, end=sessions[0])
    for name, (_, configured) in policies.items():
        timed_retrain(name, configured, sessions[0])
    for index, day in enumerate(sessions[1:], start=1):
        ingest_prices(settings, end=day)
        if on_day is not None:
            on_day(day)
        for name, (policy, configured) in policies.items():
            started = time.perf_counter()
            decided = run_daily(configured, day, ingest=False).decision.decision
            seconds[name]["replay"] += time.perf_counter() - started
            if (policy == "continuous" and decided == "retrain") or (
                policy == "fixed_schedule" and index % schedule_sessions == 0
            ):
                timed_retrain(name, configured, day)
    turbulent = _turbulence(settings, calendar.sessions_ending(sessions[0], HISTORY_SESSIONS + 1))
    results, history = _score(policies, seconds, sessions, turbulent)
    return _report(settings, sessions, schedule_sessions, results, history)


def _require_clean_stores(
    settings: Settings, policies: dict[str, tuple[Policy, Settings]], start: date
) -> None:
    """Refuse stores where a step could see the future: prices after `start` already stored, or a
    policy's registered model (trained by an earlier backtest, perhaps on later data)."""
    from tickcast.registry.catalog import registered_version_count

    with open_connection(settings) as conn:
        ensure_schema(conn)
        newest = newest_trade_date(conn)
    if newest is not None and newest > start:
        raise BacktestError(
            f"the database already holds prices up to {newest}, after the start {start}: a "
            "backtest stores each session as it replays it, so point database.url (or "
            "database.embedded_dir) at an empty database"
        )
    taken = [
        configured.mlflow.model_name
        for _, configured in policies.values()
        if registered_version_count(configured)
    ]
    if taken:
        raise BacktestError(
            f"the MLflow registry already holds {', '.join(taken)} (an earlier backtest): use a "
            "fresh mlflow.tracking_uri or another mlflow.model_name"
        )


def _turbulence(settings: Settings, before: list[date]) -> pd.Series:
    """Per stored session from the first of `before` (the sessions that decide the first
    replayed one, which is the last of them) on: is it turbulent (tickcast.models.regimes),
    judged on the equal-weight mean of every stored ticker's adjusted daily return."""
    with open_connection(settings) as conn:
        prices = load_prices(conn, start=before[0])
    if prices.empty:
        return pd.Series(dtype=bool)
    wide = prices.pivot(index="trade_date", columns="ticker", values="adj_close").sort_index()
    market = market_returns(daily_returns(wide.to_numpy(np.float64)))
    return turbulent_sessions(pd.Series(market, index=pd.to_datetime(wide.index)))


def _by_regime(
    rows: pd.DataFrame, turbulent: pd.Series, evaluation: EvaluationSettings, every_row: bool
) -> dict[str, dict[str, RegimeScore]]:
    """Report row ("model", "persistence" with the volatility baseline's interval, or a one-line
    baseline's name) -> "calm" / "turbulent" -> its figures on those scored rows (by their
    target session); the baselines' only with `every_row`. Each regime's rows are scored once."""
    if rows.empty:
        return {}
    flags = turbulent.reindex(pd.to_datetime(rows["target_date"])).fillna(False).to_numpy(bool)
    found: dict[str, dict[str, RegimeScore]] = {}
    for regime, chosen in (("calm", ~flags), ("turbulent", flags)):
        part = rows[chosen]
        scores: dict[str, tuple[ForecastMetrics | None, IntervalMetrics | None]] = {}
        if not part.empty:
            (model, persistence), (band, volatility_band) = (
                scored_metrics(part, evaluation),
                scored_intervals(part),
            )
            scores = {"model": (model, band), "persistence": (persistence, volatility_band)}
            if every_row:
                scores |= {n: (m, None) for n, m in scored_baselines(part, evaluation).items()}
        names = ("model", "persistence", *BASELINES) if every_row else ("model",)
        for name in names:
            metrics, intervals = scores.get(name, (None, None))
            found.setdefault(name, {})[regime] = RegimeScore(
                sessions=int(part["target_date"].nunique()), metrics=metrics, intervals=intervals
            )
    return found


def _score(
    policies: dict[str, tuple[Policy, Settings]],
    seconds: dict[str, dict[str, float]],
    sessions: list[date],
    turbulent: pd.Series,
) -> tuple[list[PolicyResult], dict[str, pd.DataFrame]]:
    results: list[PolicyResult] = []
    history: dict[str, pd.DataFrame] = {}
    # Persistence on the first policy's rows (every policy is scored on the same ones).
    persistence: tuple[pd.DataFrame, ForecastMetrics | None, IntervalMetrics | None] | None = None
    baselines: dict[str, ForecastMetrics] = {}
    regimes: dict[str, dict[str, RegimeScore]] = {}  # the first policy's rows', by report row
    evaluation = next(iter(policies.values()))[1].evaluation
    for policy, (_, configured) in policies.items():
        model = configured.mlflow.model_name
        with open_connection(configured) as conn:
            rows = scored_rows(conn, model, sessions[-1], len(sessions))
            # Every retraining ends in an audited promotion verdict, promoted or not.
            audit = [a for a in promotion_history(conn, model, 100_000) if a["action"] == "promote"]
            retrains = [
                d
                for d in decisions(conn, model, 100_000)
                if d["decision"] == "retrain" and not d["bootstrap"]
            ]
        later = [a for a in audit if not a["bootstrap"]]
        model_metrics, baseline = (
            scored_metrics(rows, configured.evaluation) if not rows.empty else (None, None)
        )
        intervals, interval_baseline = scored_intervals(rows) if not rows.empty else (None, None)
        by_regime = _by_regime(rows, turbulent, evaluation, every_row=persistence is None)
        results.append(
            PolicyResult(
                policy=policy,
                metrics=model_metrics,
                retrains=len(later),
                promotions=sum(a["promoted"] for a in later),
                seconds=seconds[policy]["replay"] + seconds[policy]["retrain"],
                retrain_seconds=seconds[policy]["retrain"],
                replay_seconds_per_session=seconds[policy]["replay"] / (len(sessions) - 1),
                triggers=rule_counts(d["reasons"] for d in retrains),
                intervals=intervals,
                regimes=by_regime.get("model", {}),
            )
        )
        history[policy] = rows
        if persistence is None:
            persistence, regimes = (rows, baseline, interval_baseline), by_regime
            baselines = scored_baselines(rows, configured.evaluation) if not rows.empty else {}
    if persistence is not None:
        rows, baseline, interval_baseline = persistence
        results.append(
            PolicyResult(
                policy="persistence",
                metrics=baseline,
                retrains=0,
                promotions=0,
                seconds=0,
                intervals=interval_baseline,
                regimes=regimes.get("persistence", {}),
            )
        )
        history["persistence"] = rows.assign(predicted_log_return=0.0)  # for the plot
    results += [
        PolicyResult(
            policy=f"{name} baseline",
            metrics=found,
            retrains=0,
            promotions=0,
            seconds=0,
            regimes=regimes.get(name, {}),
        )
        for name, found in baselines.items()
    ]
    return results, history


def _report(
    settings: Settings,
    sessions: list[date],
    schedule_sessions: int,
    results: list[PolicyResult],
    history: dict[str, pd.DataFrame],
) -> BacktestResult:
    from tickcast.registry.plots import rolling_mape_by_policy
    from tickcast.registry.tracking import log_report

    start, end = sessions[0], sessions[-1]
    folder = ("backtests", f"{start}_{end}")
    figure = rolling_mape_by_policy(
        {policy: _daily_mape(rows) for policy, rows in history.items() if not rows.empty},
        settings.monitoring.window_sessions,
    )
    tickers = max(
        (rows["ticker"].nunique() for rows in history.values() if not rows.empty), default=0
    )
    with open_connection(settings) as conn:
        universe = universe_label(stored_universe(conn), end)
    result = BacktestResult(
        universe=universe,
        start=start,
        end=end,
        sessions=len(sessions),
        tickers=int(tickers),
        schedule_sessions=schedule_sessions,
        policies=results,
        report_uri=artifact_uri(settings, *folder, "report.md"),
        mlflow_run_id="",
    )
    with open_artifact(artifact_uri(settings, *folder, "rolling_mape.png"), "wb") as file:
        figure.savefig(file, format="png", dpi=110)
    with open_artifact(result.report_uri, "wb") as file:
        file.write(result.markdown().encode())
    metrics = {
        f"{p.policy}_{key}": value
        for p in results
        if p.metrics is not None
        for key, value in p.metrics.as_dict().items()
        if key in ("mape", "mase", "direction_accuracy", "rank_ic", "rank_ic_t", "spread_net_bps")
        and not math.isnan(value)
    } | {
        f"{p.policy}_interval_{key}": value
        for p in results
        if p.intervals is not None
        for key, value in p.intervals.as_dict().items()
        if key in ("coverage", "width_pct", "pinball", "kupiec_p")
    }
    result.mlflow_run_id = log_report(
        settings,
        f"backtest {start} to {end}",
        {"start": str(start), "end": str(end), "schedule_sessions": schedule_sessions},
        metrics,
        {"report.md": result.markdown(), "rolling_mape.png": figure},
    )
    return result


def _daily_mape(rows: pd.DataFrame) -> pd.Series:
    """Mean absolute percentage error of each target session."""
    predicted = rows["last_close"] * np.exp(rows["predicted_log_return"])
    actual = rows["last_close"] * np.exp(rows["actual_log_return"])
    errors = ((predicted - actual).abs() / actual * 100).rename("ape")
    daily: pd.Series = errors.groupby(rows["target_date"]).mean()
    return daily
