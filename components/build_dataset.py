"""KFP component: Build (or find) the dataset version of all stored prices."""

from kfp import dsl
from kfp.dsl import Markdown, Output

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def build_dataset(as_of: str, report: Output[Markdown]) -> str:
    """Build (or find) the dataset version of all stored prices.

    Calls `tickcast.orchestration.steps.build_dataset`, which runs
    `tickcast.features.dataset.build_dataset`; `tickcast.orchestration.kfp_values.build_dataset` converts KFP's
    strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.build_dataset(as_of, report)
