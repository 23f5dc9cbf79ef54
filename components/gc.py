"""KFP component: Retention: what no kept model needs."""

from kfp import dsl
from kfp.dsl import Markdown, Output

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def gc(report: Output[Markdown]) -> int:
    """Retention: rejected candidates past their days, promoted versions beyond the kept ones
    archived, dataset arrays no kept model needs, old search and kfp.local folders.

    Calls `tickcast.orchestration.steps.gc`, which runs
    `tickcast.ops.gc.collect`; `tickcast.orchestration.kfp_values.gc` converts KFP's
    strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.gc(report)
