"""The "decide" step: retrain or keep, with every reason that fired, recorded."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel

from tickcast.config import DecisionSettings, Settings
from tickcast.data.calendar import (
    CalendarError,
    TradingCalendar,
    configured_calendar,
)
from tickcast.db.connection import open_connection
from tickcast.db.datasets import get_dataset
from tickcast.db.decisions import last_retrain, record_decision
from tickcast.db.migrate import apply_migrations
from tickcast.ops.results import MonitorResult


class Reason(BaseModel):
    """One reason of a decision: the rule (its `decision.*` setting, or `bootstrap` /
    `within_thresholds`), the threshold and the observed value it compared, and the sentence."""

    rule: str
    threshold: float | None = None
    observed: float | None = None
    message: str

    def __str__(self) -> str:
        return self.message


class RetrainDecision(BaseModel):
    as_of: date
    decision: Literal["retrain", "keep"]
    bootstrap: bool
    reasons: list[Reason]  # every rule that fired (or why none could)
    model_version: int | None
    metrics: dict[str, Any]


def decide(
    settings: Settings, as_of: date | None = None, monitored: MonitorResult | None = None
) -> RetrainDecision:
    """Judge the production model on the monitor's rolling metrics and drift (monitoring first
    when no result is given), record the decision and return it."""
    calendar = configured_calendar(settings)
    as_of = as_of or calendar.latest_completed_session()
    if as_of > calendar.today():  # a recorded decision is dated: never on a day to come
        raise CalendarError(
            f"--as-of {as_of} is in the future (today is {calendar.today()} in "
            f"{calendar.timezone}): a decision is made on data that exist"
        )
    if monitored is None:
        from tickcast.ops.monitor import monitor  # torch and MLflow: only when asked to monitor

        monitored = monitor(settings, as_of)
    with open_connection(settings) as conn:
        apply_migrations(conn)
        previous = last_retrain(conn, settings.mlflow.model_name, as_of)
        dataset = (
            get_dataset(conn, monitored.production.dataset_id) if monitored.production else None
        )
    data_end = dataset["source_end"] if dataset else None
    decision, bootstrap, reasons = judge(settings.decision, monitored, data_end, previous, calendar)
    result = RetrainDecision(
        as_of=as_of,
        decision=decision,
        bootstrap=bootstrap,
        reasons=reasons,
        model_version=monitored.production.version if monitored.production else None,
        metrics={
            "rolling": monitored.rolling.model_dump() if monitored.rolling else None,
            "persistence": monitored.rolling_persistence.model_dump()
            if monitored.rolling_persistence
            else None,
            "scored_sessions": monitored.window_sessions,
            "max_psi": monitored.max_psi,
            "drift": {d.feature: d.psi for d in monitored.drift},
        },
    )
    with open_connection(settings) as conn:
        record_decision(
            conn,
            {
                "as_of": as_of,
                "model_name": settings.mlflow.model_name,
                "model_version": result.model_version,
                "decision": decision,
                "bootstrap": bootstrap,
                "reasons": [reason.model_dump() for reason in reasons],
                "metrics": result.metrics,
            },
        )
    return result


def judge(
    rules: DecisionSettings,
    monitored: MonitorResult,
    data_end: date | None,
    previous_retrain: date | None,
    calendar: TradingCalendar,
) -> tuple[Literal["retrain", "keep"], bool, list[Reason]]:
    """(decision, bootstrap, reasons) from the rules; pure, so it is tested on its own."""
    if monitored.production is None:
        return "retrain", True, [Reason(rule="bootstrap", message="bootstrap: no production model")]
    fired: list[Reason] = []
    rolling = monitored.rolling
    if rolling is not None and monitored.window_sessions >= rules.min_scored_sessions:
        if rolling.mape > rules.max_mape:
            message = f"rolling MAPE {rolling.mape:.2f}% > {rules.max_mape:.2f}%"
            fired.append(
                Reason(
                    rule="max_mape",
                    threshold=rules.max_mape,
                    observed=rolling.mape,
                    message=message,
                )
            )
        floor = rules.min_direction_accuracy
        if rolling.direction_accuracy < floor:
            message = (
                f"direction accuracy {rolling.direction_accuracy:.3f} < {floor:.3f}"
                f" (up-day rate {rolling.up_rate:.3f})"
            )
            fired.append(
                Reason(
                    rule="min_direction_accuracy",
                    threshold=floor,
                    observed=rolling.direction_accuracy,
                    message=message,
                )
            )
        if rolling.mase > rules.max_mase:
            message = f"MASE {rolling.mase:.3f} > {rules.max_mase:.3f}"
            fired.append(
                Reason(
                    rule="max_mase",
                    threshold=rules.max_mase,
                    observed=rolling.mase,
                    message=message,
                )
            )
        ic_floor, rank_ic = rules.min_rank_ic, rolling.rank_ic
        if ic_floor is not None and rank_ic is not None and rank_ic < ic_floor:
            message = f"rank IC {rank_ic:.3f} < {ic_floor:.3f}"
            fired.append(
                Reason(rule="min_rank_ic", threshold=ic_floor, observed=rank_ic, message=message)
            )
        intervals = monitored.rolling_intervals
        if rules.coverage_band is not None and intervals is not None:
            coverage, (low, high) = intervals.coverage, rules.coverage_band
            if coverage is not None and not low <= coverage <= high:
                message = (
                    f"interval coverage {coverage:.3f} outside [{low:.2f}, {high:.2f}]"
                    f" (promised {intervals.nominal:.2f})"
                )
                bound = low if coverage < low else high
                fired.append(
                    Reason(
                        rule="coverage_band", threshold=bound, observed=coverage, message=message
                    )
                )
    psi_limit, psi = rules.max_psi, monitored.max_psi
    if psi_limit is not None and psi is not None and psi > psi_limit:
        worst = max(monitored.drift, key=lambda d: d.psi)
        message = f"drift: PSI of {worst.feature} {worst.psi:.3f} > {psi_limit:.3f}"
        fired.append(
            Reason(rule="max_psi", threshold=psi_limit, observed=worst.psi, message=message)
        )
    if data_end is not None:
        fresh_since = max(data_end, previous_retrain or data_end)
        age = len(calendar.sessions_between(calendar.next_session(fresh_since), monitored.as_of))
        if age > rules.max_model_age_sessions:
            origin = (
                f"its data ends {data_end}"
                if fresh_since == data_end
                else f"last challenged on {fresh_since}"
            )
            message = f"model age {age} sessions > {rules.max_model_age_sessions} ({origin})"
            fired.append(
                Reason(
                    rule="max_model_age_sessions",
                    threshold=rules.max_model_age_sessions,
                    observed=age,
                    message=message,
                )
            )
    too_early = rolling is None or monitored.window_sessions < rules.min_scored_sessions
    if too_early and not fired:
        scored, needed = monitored.window_sessions, rules.min_scored_sessions
        message = f"too few scored sessions to judge ({scored} < {needed})"
        return (
            "keep",
            False,
            [
                Reason(
                    rule="min_scored_sessions", threshold=needed, observed=scored, message=message
                )
            ],
        )
    if not fired:
        checked = (
            "rolling metrics, drift and model age"
            if psi_limit is not None
            else "rolling metrics and model age"
        )
        return (
            "keep",
            False,
            [Reason(rule="within_thresholds", message=f"{checked} within thresholds")],
        )
    if previous_retrain is not None:
        since = len(
            calendar.sessions_between(calendar.next_session(previous_retrain), monitored.as_of)
        )
        if since <= rules.cooldown_sessions:
            message = f"cool-down: retraining decided on {previous_retrain} ({since} sessions ago)"
            cooldown = Reason(
                rule="cooldown_sessions",
                threshold=rules.cooldown_sessions,
                observed=since,
                message=message,
            )
            return "keep", False, [cooldown, *fired]
    return "retrain", False, fired


def rule_counts(decisions_reasons: Iterable[list[dict[str, Any]]]) -> dict[str, int]:
    """How many decisions each rule (its `rule` id) fired in."""
    counts: dict[str, int] = {}
    for reasons in decisions_reasons:
        for rule in {str(reason["rule"]) for reason in reasons}:
            counts[rule] = counts.get(rule, 0) + 1
    return counts
