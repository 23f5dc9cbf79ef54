"""The "decide" step: retrain or keep, with every reason that fired, recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
from tickcast.db.migrate import ensure_schema
from tickcast.models.metrics import ForecastMetrics
from tickcast.ops.alerts import AlertEvent, notify
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
        ensure_schema(conn)
        previous = last_retrain(conn, settings.mlflow.model_name, as_of)
        dataset = (
            get_dataset(conn, monitored.production.dataset_id) if monitored.production else None
        )
    data_end = dataset["source_end"] if dataset else None
    decision, bootstrap, reasons = judge(settings.decision, monitored, data_end, previous, calendar)
    aged = model_age(Evidence(monitored, data_end, previous, calendar))
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
            # What the service's gauges read (tickcast.serving.metrics)
            "model_age_sessions": aged[0] if aged else None,
            "intervals": monitored.rolling_intervals.model_dump()
            if monitored.rolling_intervals
            else None,
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
    for event in decision_alerts(settings, result, monitored):
        notify(settings, event)
    return result


def decision_alerts(
    settings: Settings, decided: RetrainDecision, monitored: MonitorResult
) -> list[AlertEvent]:
    """A retrain decided, and the rolling coverage of the central interval out of its band."""
    events = []
    version = f"v{decided.model_version}" if decided.model_version else "no model yet"
    if decided.decision == "retrain":
        events.append(
            AlertEvent(
                kind="retrain_decided",
                as_of=decided.as_of,
                summary=f"retrain decided ({version}): "
                + "; ".join(reason.message for reason in decided.reasons),
                details={
                    "model_version": decided.model_version,
                    "bootstrap": decided.bootstrap,
                    "reasons": [reason.model_dump() for reason in decided.reasons],
                },
                fingerprint=f"{decided.as_of}",
            )
        )
    band = monitored.rolling_intervals
    tolerance = settings.alerts.coverage_tolerance
    if band is None or band.coverage is None or abs(band.coverage - band.nominal) <= tolerance:
        return events
    side = "below" if band.coverage < band.nominal else "above"
    events.append(
        AlertEvent(
            kind="coverage_breach",
            as_of=decided.as_of,
            summary=f"{version}: the {band.nominal:.0%} band covered {band.coverage:.1%} of the "
            f"last {monitored.window_sessions} sessions' outcomes ({side} {band.nominal:.0%} "
            f"± {tolerance:.0%})",
            details={
                "model_version": decided.model_version,
                "coverage": band.coverage,
                "nominal": band.nominal,
                "samples": band.samples,
            },
            fingerprint=f"{version}:{side}",
        )
    )
    return events


@dataclass(frozen=True)
class Evidence:
    """What the rules read: the monitor's result, the production data's last session and the
    last retrain decision before today."""

    monitored: MonitorResult
    data_end: date | None
    previous_retrain: date | None
    calendar: TradingCalendar


@dataclass(frozen=True)
class Rule:
    """One retrain rule: its id (the `decision.*` setting it reads), whether it reads the rolling
    metrics (judged only once `min_scored_sessions` are scored) and its check."""

    id: str
    reads_scores: bool
    check: Callable[[DecisionSettings, Evidence], Reason | None]


def _max_mape(rules: DecisionSettings, found: Evidence) -> Reason | None:
    mape = _rolling(found).mape
    if mape <= rules.max_mape:
        return None
    message = f"rolling MAPE {mape:.2f}% > {rules.max_mape:.2f}%"
    return Reason(rule="max_mape", threshold=rules.max_mape, observed=mape, message=message)


def _min_direction_accuracy(rules: DecisionSettings, found: Evidence) -> Reason | None:
    rolling, floor = _rolling(found), rules.min_direction_accuracy
    if rolling.direction_accuracy >= floor:
        return None
    message = (
        f"direction accuracy {rolling.direction_accuracy:.3f} < {floor:.3f}"
        f" (up-day rate {rolling.up_rate:.3f})"
    )
    observed = rolling.direction_accuracy
    return Reason(
        rule="min_direction_accuracy", threshold=floor, observed=observed, message=message
    )


def _max_mase(rules: DecisionSettings, found: Evidence) -> Reason | None:
    mase = _rolling(found).mase
    if mase <= rules.max_mase:
        return None
    message = f"MASE {mase:.3f} > {rules.max_mase:.3f}"
    return Reason(rule="max_mase", threshold=rules.max_mase, observed=mase, message=message)


def _min_rank_ic(rules: DecisionSettings, found: Evidence) -> Reason | None:
    floor, rank_ic = rules.min_rank_ic, _rolling(found).rank_ic
    if floor is None or rank_ic is None or rank_ic >= floor:
        return None
    message = f"rank IC {rank_ic:.3f} < {floor:.3f}"
    return Reason(rule="min_rank_ic", threshold=floor, observed=rank_ic, message=message)


def _coverage_band(rules: DecisionSettings, found: Evidence) -> Reason | None:
    intervals = found.monitored.rolling_intervals
    if rules.coverage_band is None or intervals is None or intervals.coverage is None:
        return None
    coverage, (low, high) = intervals.coverage, rules.coverage_band
    if low <= coverage <= high:
        return None
    message = (
        f"interval coverage {coverage:.3f} outside [{low:.2f}, {high:.2f}]"
        f" (promised {intervals.nominal:.2f})"
    )
    bound = low if coverage < low else high
    return Reason(rule="coverage_band", threshold=bound, observed=coverage, message=message)


def _max_psi(rules: DecisionSettings, found: Evidence) -> Reason | None:
    limit, psi = rules.max_psi, found.monitored.max_psi
    if limit is None or psi is None or psi <= limit:
        return None
    worst = max(found.monitored.drift, key=lambda d: d.psi)
    message = f"drift: PSI of {worst.feature} {worst.psi:.3f} > {limit:.3f}"
    return Reason(rule="max_psi", threshold=limit, observed=worst.psi, message=message)


def model_age(found: Evidence) -> tuple[int, date] | None:
    """Sessions since the model's data ended or, if later, it was last challenged by a retrain,
    and that day; None without a production model."""
    if found.data_end is None:
        return None
    calendar, data_end = found.calendar, found.data_end
    fresh_since = max(data_end, found.previous_retrain or data_end)
    age = len(calendar.sessions_between(calendar.next_session(fresh_since), found.monitored.as_of))
    return age, fresh_since


def _max_model_age(rules: DecisionSettings, found: Evidence) -> Reason | None:
    aged = model_age(found)
    if aged is None or aged[0] <= rules.max_model_age_sessions:
        return None
    (age, fresh_since), data_end = aged, found.data_end
    origin = (
        f"its data ends {data_end}"
        if fresh_since == data_end
        else f"last challenged on {fresh_since}"
    )
    return Reason(
        rule="max_model_age_sessions",
        threshold=rules.max_model_age_sessions,
        observed=age,
        message=f"model age {age} sessions > {rules.max_model_age_sessions} ({origin})",
    )


def _rolling(found: Evidence) -> ForecastMetrics:
    rolling = found.monitored.rolling
    assert rolling is not None  # a rule that reads scores runs only when there are some
    return rolling


# The rules in the order their reasons are listed.
RULES = (
    Rule("max_mape", True, _max_mape),
    Rule("min_direction_accuracy", True, _min_direction_accuracy),
    Rule("max_mase", True, _max_mase),
    Rule("min_rank_ic", True, _min_rank_ic),
    Rule("coverage_band", True, _coverage_band),
    Rule("max_psi", False, _max_psi),
    Rule("max_model_age_sessions", False, _max_model_age),
)


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
    found = Evidence(monitored, data_end, previous_retrain, calendar)
    scored = (
        monitored.rolling is not None and monitored.window_sessions >= rules.min_scored_sessions
    )
    fired = [
        reason
        for rule in RULES
        if scored or not rule.reads_scores
        if (reason := rule.check(rules, found)) is not None
    ]
    if not fired and not scored:
        counted, needed = monitored.window_sessions, rules.min_scored_sessions
        message = f"too few scored sessions to judge ({counted} < {needed})"
        return (
            "keep",
            False,
            [
                Reason(
                    rule="min_scored_sessions", threshold=needed, observed=counted, message=message
                )
            ],
        )
    if not fired:
        checked = (
            "rolling metrics, drift and model age"
            if rules.max_psi is not None
            else "rolling metrics and model age"
        )
        return (
            "keep",
            False,
            [Reason(rule="within_thresholds", message=f"{checked} within thresholds")],
        )
    cooldown = _cooling_down(rules, found)
    return ("keep", False, [cooldown, *fired]) if cooldown else ("retrain", False, fired)


def _cooling_down(rules: DecisionSettings, found: Evidence) -> Reason | None:
    """The cool-down reason when a retrain was decided too few sessions ago."""
    previous, calendar = found.previous_retrain, found.calendar
    if previous is None:
        return None
    since = len(calendar.sessions_between(calendar.next_session(previous), found.monitored.as_of))
    if since > rules.cooldown_sessions:
        return None
    return Reason(
        rule="cooldown_sessions",
        threshold=rules.cooldown_sessions,
        observed=since,
        message=f"cool-down: retraining decided on {previous} ({since} sessions ago)",
    )


def rule_counts(decisions_reasons: Iterable[list[dict[str, Any]]]) -> dict[str, int]:
    """How many decisions each rule (its `rule` id) fired in."""
    counts: dict[str, int] = {}
    for reasons in decisions_reasons:
        for rule in {str(reason["rule"]) for reason in reasons}:
            counts[rule] = counts.get(rule, 0) + 1
    return counts
