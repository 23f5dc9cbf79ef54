"""KFP component: Forecast the next session with the production model that resolve-production
named."""

from kfp import dsl
from kfp.dsl import Markdown, Output

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def predict(as_of: str, production: str, report: Output[Markdown]) -> str:
    """Forecast the next session with the production model that resolve-production named.

    Calls `tickcast.orchestration.steps.predict`, which runs
    `tickcast.ops.predict.predict_with`; `tickcast.orchestration.kfp_values.predict` converts KFP's
    strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.predict(as_of, production, report)
