"""Daily pipeline (daily_stock_operations_prod): ingest -> validate -> predict -> monitor ->
decide, and the retraining pipeline nested under dsl.If when the decision is "retrain" (bootstrap
included). The steps and their wiring: `tickcast.orchestration.dag.DAILY`."""

from kfp import dsl

from pipelines.retraining import retraining
from pipelines.tasks import add_tasks
from tickcast.orchestration.dag import DAILY, RETRAIN_WHEN


@dsl.pipeline(
    name="tickcast-daily", description="Daily forecasts, scoring and the retrain decision."
)
def daily(
    as_of: str = "",
    trials: int = 8,
    gpus: str = "0",  # a string: KFP's driver reads the accelerator count placeholder as one
    gpu_node_selector: dict[str, str] = {},  # noqa: B006 (KFP reads the default from the signature)
    search_gpus: str = "0",  # the tune pod's own: 0 when the search runs on a RayCluster
) -> None:
    """One trading day, each step a pod (no step cached):

    1. init database: apply pending migrations.
    2. ingest incremental: new prices up to `as_of` (retried twice).
    3. validate data: stale, gappy and missing tickers; too few healthy ones fail the run.
    4. resolve production: the version behind the `production` alias, or none: bootstrap
       (retried); predict and monitor use the version it names.
    5. predict: next-session forecasts of that model for every fresh ticker.
    6. monitor: score forecasts whose close is known; rolling metrics and that model's drift.
    7. decide: "retrain" or "keep", with every reason.
    8. retention: what no kept model needs (tickcast gc), beside a retraining.
    9. retraining (only when the decision is "retrain"): the retraining pipeline, nested.

    Args:
        as_of: The session to run for, YYYY-MM-DD; empty: the latest completed XNYS session.
        trials: Hyperparameter search budget of a retrain (trials).
        gpus: GPUs for the candidate's training pod ("0": none), as a string.
        gpu_node_selector: Node labels the GPU pods are scheduled on (e.g. an accelerator type).
        search_gpus: GPUs for the tune pod itself; "0" when the search runs on a RayCluster.
    """
    parameters = {
        "as_of": as_of,
        "trials": trials,
        "gpus": gpus,
        "gpu_node_selector": gpu_node_selector,
        "search_gpus": search_gpus,
    }
    tasks = add_tasks(DAILY, parameters)  # no step cached: each reads today's state
    decision = tasks[RETRAIN_WHEN.step].outputs["Output"]
    with dsl.If(decision == RETRAIN_WHEN.equals, name="retrain"):
        retraining(**parameters).set_display_name("retraining")
