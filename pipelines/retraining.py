"""Retraining pipeline (stock_model_retraining_prod): dataset -> tune -> candidate -> evaluate ->
promote. The steps and their wiring: `tickcast.orchestration.dag.RETRAINING`."""

from kfp import dsl

from pipelines.tasks import add_tasks
from tickcast.orchestration.dag import RETRAINING


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
        The promotion verdict: "promoted" or "kept".
    """
    parameters = {
        "as_of": as_of,
        "trials": trials,
        "gpus": gpus,
        "gpu_node_selector": gpu_node_selector,
        "search_gpus": search_gpus,
    }
    # Only the search is cached (same dataset version and budget, same result); the rest reads
    # the store and the registry as they are now.
    tasks = add_tasks(RETRAINING, parameters)
    return tasks[RETRAINING[-1].function].outputs["Output"]
