"""KFP component: Retrain or keep, with reasons."""

from kfp import dsl
from kfp.dsl import Markdown, Output

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def decide(as_of: str, monitoring: str, report: Output[Markdown]) -> str:
    """Retrain or keep, with reasons.

    Calls `tickcast.orchestration.steps.decide`, which runs
    `tickcast.ops.decide.decide`.
    """
    from tickcast.orchestration import steps

    return steps.decide(as_of, monitoring, report).output
