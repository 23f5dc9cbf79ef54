"""Daily pipeline (daily_stock_operations_prod): ingest -> validate -> predict -> monitor ->
decide, and the retraining pipeline nested under dsl.If when the decision is "retrain" (bootstrap
included)."""

from components.decide import decide
from components.ingest import ingest
from components.init_database import init_database
from components.monitor import monitor
from components.predict import predict
from components.resolve_production import resolve_production
from components.validate import validate
from kfp import dsl

from pipelines.cluster import LIGHT, STANDARD, on_cluster
from pipelines.retraining import retraining


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
    4. resolve production: the version behind the `production` alias, or "bootstrap" (retried).
    5. predict: next-session forecasts of the production model for every fresh ticker.
    6. monitor: score forecasts whose close is known; rolling metrics and drift.
    7. decide: "retrain" or "keep", with every reason.
    8. retraining (only when the decision is "retrain"): the retraining pipeline, nested.

    Args:
        as_of: The session to run for, YYYY-MM-DD; empty: the latest completed XNYS session.
        trials: Hyperparameter search budget of a retrain (trials).
        gpus: GPUs for the candidate's training pod ("0": none), as a string.
        gpu_node_selector: Node labels the GPU pods are scheduled on (e.g. an accelerator type).
        search_gpus: GPUs for the tune pod itself; "0" when the search runs on a RayCluster.
    """
    schema = on_cluster(init_database(), "init database", LIGHT)
    prices = on_cluster(ingest(as_of=as_of), "ingest incremental", STANDARD).after(schema)
    prices.set_retry(num_retries=2, backoff_duration="30s")
    checked = on_cluster(validate(as_of=as_of), "validate data", STANDARD).after(prices)
    production = on_cluster(resolve_production(), "resolve production", LIGHT).after(checked)
    production.set_retry(num_retries=2, backoff_duration="10s")
    forecasts = on_cluster(predict(as_of=as_of), "predict", STANDARD).after(production)
    scores = on_cluster(monitor(as_of=as_of), "monitor", STANDARD).after(forecasts)
    decision = on_cluster(decide(as_of=as_of, monitoring=scores.outputs["Output"]), "decide", LIGHT)
    # Every step reads or writes state that changes from day to day: none may come from a cache.
    for step in (schema, prices, checked, production, forecasts, scores, decision):
        step.set_caching_options(False)
    with dsl.If(decision.outputs["Output"] == "retrain", name="retrain"):
        retraining(
            as_of=as_of,
            trials=trials,
            gpus=gpus,
            gpu_node_selector=gpu_node_selector,
            search_gpus=search_gpus,
        ).set_display_name("retraining")
