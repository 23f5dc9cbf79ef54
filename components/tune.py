"""KFP component: Search hyperparameters on the dataset version."""

from kfp import dsl
from kfp.dsl import Metrics, Output

from tickcast.orchestration.images import TRAINER_IMAGE


@dsl.component(base_image=TRAINER_IMAGE, install_kfp_package=False)
def tune(dataset_id: str, trials: int, metrics: Output[Metrics]) -> str:
    """Search hyperparameters on the dataset version.

    Calls `tickcast.orchestration.steps.tune`, which runs
    `tickcast.ops.tune.tune`; `tickcast.orchestration.kfp_values.tune` converts KFP's
    strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.tune(dataset_id, trials, metrics)
