"""KFP component: Move the production alias if the candidate wins; audited."""

from kfp import dsl
from kfp.dsl import Markdown, Output

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def promote(evaluation: str, report: Output[Markdown]) -> str:
    """Move the production alias if the candidate wins; audited.

    Calls `tickcast.orchestration.steps.promote`, which runs
    `tickcast.ops.promote.promote`; `tickcast.orchestration.kfp_values.promote` converts KFP's
    strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.promote(evaluation, report)
