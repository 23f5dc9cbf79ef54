"""KFP component: Retrain or keep, with reasons."""

from kfp import dsl
from kfp.dsl import Markdown, Output

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def decide(as_of: str, monitoring: str, report: Output[Markdown]) -> str:
    """Retrain or keep, with reasons.

    Calls `tickcast.orchestration.steps.decide`, which runs
    `tickcast.ops.decide.decide`; `tickcast.orchestration.kfp_values.decide` converts KFP's
    strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.decide(as_of, monitoring, report)
