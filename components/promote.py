"""KFP component: Move the production alias if the candidate wins; audited."""

from kfp import dsl
from kfp.dsl import Markdown, Output

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def promote(evaluation: str, report: Output[Markdown]) -> str:
    """Move the production alias if the candidate wins; audited.

    Calls `tickcast.orchestration.steps.promote`, which runs
    `tickcast.ops.promote.promote`.
    """
    from tickcast.orchestration import steps

    return steps.promote(evaluation, report).output
