"""The "promote" step (champion / challenger): move the production alias only when the candidate
beat production (and, as configured, persistence and a one-line baseline) by the configured rule; manual promotions and rollbacks. Every
decision is audited."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from tickcast.config import PromotionSettings, Settings
from tickcast.db.connection import open_connection
from tickcast.db.migrate import ensure_schema
from tickcast.db.promotions import last_alias_move_to, record_promotion
from tickcast.models.metrics import ForecastMetrics
from tickcast.models.paired_tests import PairedTest
from tickcast.ops.alerts import AlertEvent, notify
from tickcast.ops.evaluate import Evaluation
from tickcast.registry.aliases import production_version, registered_version
from tickcast.registry.errors import PromotionError
from tickcast.registry.tracking import configure_mlflow
from tickcast.text import clipped

LOWER_IS_BETTER = {"mase", "mae", "rmse", "mape"}
ABSOLUTE_GAIN = {"rank_ic"}  # a correlation near 0: compare differences, not ratios


class PromotionDecision(BaseModel):
    promoted: bool
    bootstrap: bool
    reason: str
    production_before: int | None
    production_after: int | None
    evaluation: Evaluation | None = None


def judge_candidate(rule: PromotionSettings, evaluation: Evaluation) -> tuple[bool, bool, str]:
    """(promote, bootstrap, reason) by the rule."""
    metric = rule.metric
    candidate = _value(evaluation.candidate, metric)
    baseline = _value(evaluation.persistence, metric)
    if rule.must_beat_persistence and not _better(metric, candidate, baseline):
        return (
            False,
            False,
            f"candidate {metric} {candidate:.6g} does not beat persistence {baseline:.6g}",
        )
    if rule.must_beat_baseline is not None:
        named = rule.must_beat_baseline
        if named not in evaluation.baselines:
            return False, False, f"no {named} baseline to beat: the candidate was saved without it"
        won, verdict = _wins(
            rule,
            candidate,
            _value(evaluation.baselines[named], metric),
            f"the {named} baseline",
            evaluation.baseline_paired_test,
        )
        if not won:
            return False, False, verdict
    if evaluation.production is None:
        if evaluation.production_error:
            return True, False, f"{evaluation.production_error}; the candidate replaces it"
        return (
            True,
            True,
            f"bootstrap: no production model; candidate {metric} {candidate:.6g} (persistence {baseline:.6g})",
        )
    incumbent = _value(evaluation.production, metric)
    won, verdict = _wins(rule, candidate, incumbent, "production", evaluation.paired_test)
    return won, False, f"{verdict}; persistence {baseline:.6g}"


def _wins(
    rule: PromotionSettings,
    candidate: float,
    other: float,
    name: str,
    test: PairedTest | None,
) -> tuple[bool, str]:
    """Does the candidate beat `other` (production or a baseline) by the rule's margin, and by
    its paired test when it asks for one? With the verdict in words."""
    metric = rule.metric
    if metric in ABSOLUTE_GAIN:
        gain = candidate - other
        margin = f"{gain:+.4f}; required > {rule.min_improvement:.4f}"
    else:
        gain = (other - candidate if metric in LOWER_IS_BETTER else candidate - other) / abs(other)
        margin = f"{gain:+.2%}; required > {rule.min_improvement:.2%}"
    verdict = f"candidate {metric} {candidate:.6g} vs {name} {other:.6g} ({margin})"
    won = gain > rule.min_improvement
    if won and rule.significance is not None:
        if test is None:
            return (
                False,
                f"{verdict}; no paired test possible (under 3 sessions, or no difference at all)",
            )
        significant = test.p_value <= rule.significance
        verdict += (
            f"; {test.method.replace('_', ' ')} p = {test.p_value:.3g} over {test.sessions} "
            f"sessions ({'<=' if significant else '>'} {rule.significance})"
        )
        won = significant
    return won, verdict


def promote(settings: Settings, evaluation: Evaluation) -> PromotionDecision:
    """The "promote" step: apply the rule, move the alias if it says so, audit either way."""
    client = configure_mlflow(settings)
    before = production_version(client, settings)
    if before == evaluation.candidate_version:
        promoted, bootstrap, reason = False, False, f"v{before} is already production"
    else:
        promoted, bootstrap, reason = judge_candidate(settings.promotion, evaluation)
    after = evaluation.candidate_version if promoted else before
    if promoted:
        _require_loadable(settings, evaluation.candidate_version, before)
        client.set_registered_model_alias(
            settings.mlflow.model_name, settings.mlflow.production_alias, str(after)
        )
    _tag(
        client,
        settings,
        evaluation.candidate_version,
        "promoted" if promoted else "rejected",
        reason,
        evaluation,
    )
    _audit(
        settings,
        "promote",
        evaluation.candidate_version,
        before,
        after,
        promoted,
        bootstrap,
        reason,
        evaluation,
    )
    notify(
        settings,
        AlertEvent(
            kind="candidate_promoted" if promoted else "candidate_rejected",
            summary=f"candidate v{evaluation.candidate_version} "
            + (f"promoted (production was v{before})" if promoted else f"rejected: {reason}"),
            details={
                "candidate_version": evaluation.candidate_version,
                "production_before": before,
                "production_after": after,
                "bootstrap": bootstrap,
                "reason": reason,
            },
            fingerprint=f"v{evaluation.candidate_version}",
        ),
    )
    return PromotionDecision(
        promoted=promoted,
        bootstrap=bootstrap,
        reason=reason,
        production_before=before,
        production_after=after,
        evaluation=evaluation,
    )


def promote_manually(
    settings: Settings, version: int, reason: str = "manual promotion"
) -> PromotionDecision:
    """Point the alias at `version` by hand (audited)."""
    client = configure_mlflow(settings)
    registered_version(client, settings, version)
    before = production_version(client, settings)
    _require_loadable(settings, version, before)
    client.set_registered_model_alias(
        settings.mlflow.model_name, settings.mlflow.production_alias, str(version)
    )
    _tag(client, settings, version, "promoted manually", reason, None)
    _audit(settings, "promote", version, before, version, True, before is None, reason, None)
    return PromotionDecision(
        promoted=True,
        bootstrap=before is None,
        reason=reason,
        production_before=before,
        production_after=version,
    )


def rollback(settings: Settings) -> PromotionDecision:
    """Move the alias back to where the promotion of the current production version found it."""
    client = configure_mlflow(settings)
    current = production_version(client, settings)
    if current is None:
        raise PromotionError("no production model to roll back")
    with open_connection(settings) as conn:
        ensure_schema(conn)
        move = last_alias_move_to(conn, settings.mlflow.model_name, current)
    if move is None or move["production_before"] is None:
        raise PromotionError(
            f"no earlier production version recorded before v{current}: nothing to roll back to"
        )
    target = int(move["production_before"])
    _require_loadable(settings, target, current)
    client.set_registered_model_alias(
        settings.mlflow.model_name, settings.mlflow.production_alias, str(target)
    )
    reason = f"rollback from v{current} to v{target} (undoing audit row {move['id']})"
    _tag(client, settings, current, "rolled back", reason, None)
    _audit(settings, "rollback", current, current, target, False, False, reason, None)
    return PromotionDecision(
        promoted=False,
        bootstrap=False,
        reason=reason,
        production_before=current,
        production_after=target,
    )


def _require_loadable(settings: Settings, version: int, before: int | None) -> None:
    """PromotionError naming the load error when `version`'s model cannot be loaded as the
    steps and the service load it, or retention archived it: the alias stays where it is (on
    `before`)."""
    from tickcast.ops.resolve_production import describe_version
    from tickcast.registry.production_bundle import load_production_bundle

    stays = f"v{before}" if before is not None else "no version"
    archived = registered_version(configure_mlflow(settings), settings, version).tags.get(
        "tickcast.archived"
    )
    if archived:
        raise PromotionError(
            f"v{version} was archived on {archived}: its model files are gone, so the production "
            f"alias stays on {stays} (retrain to get a model like it back)"
        )
    try:
        load_production_bundle(settings, describe_version(settings, version))
    except PromotionError:
        raise
    except Exception as error:  # whatever the files hold: the move is refused, said in a line
        raise PromotionError(
            f"v{version} cannot be loaded, so the production alias stays on {stays}: "
            f"{type(error).__name__}: {clipped(' '.join(str(error).split()))}"
        ) from None


def _value(metrics: ForecastMetrics, metric: str) -> float:
    """The metric's value; a rank IC that could not be judged (no ordering) counts as 0."""
    value = getattr(metrics, metric)
    return 0.0 if value is None else float(value)


def _better(metric: str, value: float, other: float) -> bool:
    return value < other if metric in LOWER_IS_BETTER else value > other


def _tag(
    client: Any,
    settings: Settings,
    version: int,
    verdict: str,
    reason: str,
    evaluation: Evaluation | None,
) -> None:
    tags = {"tickcast.promotion": verdict, "tickcast.promotion_reason": reason[:4000]}
    if evaluation is not None:
        tags["tickcast.test_mase"] = f"{evaluation.candidate.mase:.6g}"
        tags["tickcast.compared_with"] = (
            f"v{evaluation.production_version}"
            if evaluation.production_version
            else "nothing (bootstrap)"
        )
    for key, value in tags.items():
        client.set_model_version_tag(settings.mlflow.model_name, str(version), key, value)


def _audit(
    settings: Settings,
    action: Literal["promote", "rollback"],
    candidate: int,
    before: int | None,
    after: int | None,
    promoted: bool,
    bootstrap: bool,
    reason: str,
    evaluation: Evaluation | None,
) -> None:
    metrics: dict[str, Any] = {}
    if evaluation is not None:
        metrics = {
            "candidate": evaluation.candidate.model_dump(),
            "production": evaluation.production.model_dump() if evaluation.production else None,
            "persistence": evaluation.persistence.model_dump(),
            "baselines": {k: m.model_dump() for k, m in evaluation.baselines.items()},
            "tickers": len(evaluation.tickers),
            "window": [evaluation.first_anchor, evaluation.last_anchor],
        }
    with open_connection(settings) as conn:
        ensure_schema(conn)
        record_promotion(
            conn,
            {
                "model_name": settings.mlflow.model_name,
                "action": action,
                "candidate_version": candidate,
                "production_before": before,
                "production_after": after,
                "promoted": promoted,
                "bootstrap": bootstrap,
                "dataset_id": evaluation.dataset_id if evaluation else None,
                "rule": settings.promotion.model_dump(mode="json"),
                "metrics": metrics,
                "reason": reason,
            },
        )
