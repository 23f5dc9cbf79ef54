"""The retraining flow as one call: dataset -> (search) -> candidate -> evaluation -> promotion.

The KFP retraining pipeline runs the same step functions one component each."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from tickcast.config import Settings
from tickcast.features.dataset import build_dataset
from tickcast.features.dataset_version import DatasetVersion
from tickcast.ops.evaluate import evaluate_candidate
from tickcast.ops.promote import Decision, promote_candidate
from tickcast.ops.train_candidate import CandidateResult, train_candidate
from tickcast.ops.tune import TuneResult, tune_hyperparameters


class RetrainResult(BaseModel):
    dataset: DatasetVersion
    search: TuneResult | None
    candidate: CandidateResult
    decision: Decision


def retrain(
    settings: Settings, as_of: date | None = None, search: bool = True, show_progress: bool = False
) -> RetrainResult:
    dataset = build_dataset(settings, as_of=as_of)
    tuned = tune_hyperparameters(settings, dataset.id) if search else None
    candidate = train_candidate(settings, dataset.id, show_progress=show_progress)
    decision = promote_candidate(settings, evaluate_candidate(settings, candidate.model_version))
    return RetrainResult(dataset=dataset, search=tuned, candidate=candidate, decision=decision)
