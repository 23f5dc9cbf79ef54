"""The KFP boundary: one function per step, called by its component with the inputs KFP passes
(strings and numbers). Each turns them into the typed values `tickcast.orchestration.steps` takes,
runs the step and returns its output as the string or number the component returns: a date as
YYYY-MM-DD, a result as JSON, none as "". The in-process runner never comes here: it hands the
steps' typed outputs on as they are.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from tickcast.orchestration import steps
from tickcast.orchestration.steps import FileOutput, MetricsOutput

if TYPE_CHECKING:
    from pydantic import BaseModel

    from tickcast.registry.production_model import ProductionModel


def _as_of(text: str) -> date | None:
    """ "": the latest completed session."""
    return date.fromisoformat(text) if text else None


def _production(text: str) -> ProductionModel | None:
    """ "": no production model yet (bootstrap)."""
    from tickcast.registry.production_model import ProductionModel

    return ProductionModel.model_validate_json(text) if text else None


def _json(model: BaseModel | None) -> str:
    return model.model_dump_json() if model is not None else ""


def init_database() -> int:
    return steps.init_database().output


def ingest(as_of: str, metrics: MetricsOutput) -> str:
    return steps.ingest(_as_of(as_of), metrics).output


def validate(as_of: str, metrics: MetricsOutput, report: FileOutput) -> int:
    return steps.validate(_as_of(as_of), metrics, report).output


def resolve_production() -> str:
    return _json(steps.resolve_production().output)


def predict(as_of: str, production: str, report: FileOutput) -> str:
    return steps.predict(_as_of(as_of), _production(production), report).output.isoformat()


def monitor(as_of: str, production: str, metrics: MetricsOutput) -> str:
    return _json(steps.monitor(_as_of(as_of), _production(production), metrics).output)


def decide(as_of: str, monitoring: str, report: FileOutput) -> str:
    from tickcast.ops.results import MonitorResult

    monitored = MonitorResult.model_validate_json(monitoring)
    return steps.decide(_as_of(as_of), monitored, report).output


def gc(report: FileOutput) -> int:
    return steps.gc(report).output


def build_dataset(as_of: str, report: FileOutput) -> str:
    return steps.build_dataset(_as_of(as_of), report).output


def tune(dataset_id: str, trials: int, metrics: MetricsOutput) -> str:
    return _json(steps.tune(dataset_id, trials, metrics).output)


def train_candidate(dataset_id: str, params: str, metrics: MetricsOutput) -> int:
    from tickcast.config import ModelParams

    tuned = ModelParams.model_validate_json(params) if params else None
    return steps.train_candidate(dataset_id, tuned, metrics).output


def evaluate(model_version: int, metrics: MetricsOutput) -> str:
    return _json(steps.evaluate(model_version, metrics).output)


def promote(evaluation: str, report: FileOutput) -> str:
    from tickcast.ops.evaluate import Evaluation

    return steps.promote(Evaluation.model_validate_json(evaluation), report).output
