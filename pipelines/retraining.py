"""Retraining pipeline (stock_model_retraining_prod): dataset -> tune -> candidate -> evaluate -> promote."""

from components.build_dataset import build_dataset
from components.evaluate import evaluate
from components.init_database import init_database
from components.promote import promote
from components.train_candidate import train_candidate
from components.tune import tune
from kfp import dsl


@dsl.pipeline(
    name="tickcast-retraining",
    description="Build a dataset version, search, train, evaluate and promote.",
)
def retraining(as_of: str = "", trials: int = 8) -> str:
    schema = init_database().set_display_name("init database")
    dataset = build_dataset(as_of=as_of).set_display_name("build dataset").after(schema)
    search = tune(dataset_id=dataset.outputs["Output"], trials=trials).set_display_name("tune")
    candidate = train_candidate(
        dataset_id=dataset.outputs["Output"], params=search.outputs["Output"]
    ).set_display_name("train candidate")
    verdict = evaluate(model_version=candidate.outputs["Output"]).set_display_name("evaluate")
    promoted = promote(evaluation=verdict.outputs["Output"]).set_display_name("promote")
    return promoted.outputs["Output"]
