"""Retraining pipeline (stock_model_retraining_prod): dataset -> tune -> candidate -> evaluate -> promote."""

from components.build_dataset import build_dataset
from components.evaluate import evaluate
from components.init_database import init_database
from components.promote import promote
from components.train_candidate import train_candidate
from components.tune import tune
from kfp import dsl

from pipelines.cluster import HEAVY, LIGHT, STANDARD, on_cluster, on_gpu


@dsl.pipeline(
    name="tickcast-retraining",
    description="Build a dataset version, search, train, evaluate and promote.",
)
def retraining(
    as_of: str = "",
    trials: int = 8,
    gpus: str = "0",  # a string: KFP's driver reads the accelerator count placeholder as one
    gpu_node_selector: dict[str, str] = {},  # noqa: B006 (KFP reads the default from the signature)
    search_gpus: str = "0",  # the tune pod's own: 0 when the search runs on a RayCluster
) -> str:
    """Retrain and maybe promote (only the search may come from KFP's cache):

    1. init database: apply pending migrations.
    2. build dataset: the dataset version of every stored price up to `as_of` (found, if built).
    3. tune: hyperparameter search on it (Ray Tune + Optuna), `trials` trials.
    4. train candidate: train, log and register the winning parameters as a new version.
    5. evaluate: candidate, production and persistence on the same test rows.
    6. promote: move the `production` alias if the candidate wins by the configured rule.

    Args:
        as_of: The session to run for, YYYY-MM-DD; empty: the latest completed XNYS session.
        trials: Hyperparameter search budget of a retrain (trials).
        gpus: GPUs for the candidate's training pod ("0": none), as a string.
        gpu_node_selector: Node labels the GPU pods are scheduled on (e.g. an accelerator type).
        search_gpus: GPUs for the tune pod itself; "0" when the search runs on a RayCluster.

    Returns:
        The promotion verdict (JSON).
    """
    schema = on_cluster(init_database(), "init database", LIGHT)
    dataset = on_cluster(build_dataset(as_of=as_of), "build dataset", STANDARD).after(schema)
    search = on_cluster(tune(dataset_id=dataset.outputs["Output"], trials=trials), "tune", HEAVY)
    candidate = on_cluster(
        train_candidate(dataset_id=dataset.outputs["Output"], params=search.outputs["Output"]),
        "train candidate",
        HEAVY,
    )
    on_gpu(search, search_gpus, gpu_node_selector)
    on_gpu(candidate, gpus, gpu_node_selector)
    verdict = on_cluster(evaluate(model_version=candidate.outputs["Output"]), "evaluate", STANDARD)
    promoted = on_cluster(promote(evaluation=verdict.outputs["Output"]), "promote", LIGHT)
    # Only the search is worth reusing: same dataset version and budget, same result. The rest
    # reads the store and the registry as they are now.
    for step in (schema, dataset, candidate, verdict, promoted):
        step.set_caching_options(False)
    return promoted.outputs["Output"]
