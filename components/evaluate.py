"""KFP component: Candidate vs production vs persistence on the same test rows."""

from kfp import dsl
from kfp.dsl import Metrics, Output

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def evaluate(model_version: int, metrics: Output[Metrics]) -> str:
    """Candidate vs production vs persistence on the same test rows.

    Calls `tickcast.orchestration.steps.evaluate`, which runs
    `tickcast.ops.evaluate.evaluate`; `tickcast.orchestration.kfp_values.evaluate` converts KFP's
    strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.evaluate(model_version, metrics)
