"""KFP component: Score forecasts whose actuals exist; rolling metrics and the production model's drift."""

from kfp import dsl
from kfp.dsl import Metrics, Output

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def monitor(as_of: str, production: str, metrics: Output[Metrics]) -> str:
    """Score forecasts whose actuals exist; rolling metrics and the production model's drift.

    Calls `tickcast.orchestration.steps.monitor`, which runs
    `tickcast.ops.monitor.monitor_model`; `tickcast.orchestration.kfp_values.monitor` converts KFP's
    strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.monitor(as_of, production, metrics)
