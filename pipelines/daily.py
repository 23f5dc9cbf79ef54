"""Daily pipeline (daily_stock_operations_prod): ingest -> predict -> monitor -> decide, and the
retraining pipeline nested under dsl.If when the decision is "retrain" (bootstrap included)."""

from components.decide import decide
from components.ingest import ingest
from components.init_database import init_database
from components.monitor import monitor
from components.predict import predict
from components.resolve_production import resolve_production
from kfp import dsl

from pipelines.retraining import retraining


@dsl.pipeline(
    name="tickcast-daily", description="Daily forecasts, scoring and the retrain decision."
)
def daily(as_of: str = "", trials: int = 8) -> None:
    schema = init_database().set_display_name("init database")
    prices = ingest(as_of=as_of).set_display_name("ingest incremental").after(schema)
    prices.set_caching_options(False).set_retry(num_retries=2, backoff_duration="30s")
    production = resolve_production().set_display_name("resolve production").after(prices)
    production.set_caching_options(False)
    forecasts = predict(as_of=as_of).set_display_name("predict").after(production)
    forecasts.set_caching_options(False)
    scores = monitor(as_of=as_of).set_display_name("monitor").after(forecasts)
    scores.set_caching_options(False)
    decision = decide(as_of=as_of, monitoring=scores.outputs["Output"]).set_display_name("decide")
    decision.set_caching_options(False)
    with dsl.If(decision.outputs["Output"] == "retrain", name="retrain"):
        retraining(as_of=as_of, trials=trials).set_display_name("retraining")
