"""KFP component: Train, log and register a candidate."""

from kfp import dsl
from kfp.dsl import Metrics, Output

from tickcast.orchestration.images import TRAINER_IMAGE


@dsl.component(base_image=TRAINER_IMAGE, install_kfp_package=False)
def train_candidate(dataset_id: str, params: str, metrics: Output[Metrics]) -> int:
    """Train, log and register a candidate.

    Calls `tickcast.orchestration.steps.train_candidate`, which runs
    `tickcast.ops.train_candidate.train_candidate`; `tickcast.orchestration.kfp_values.train_candidate` converts KFP's
    strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.train_candidate(dataset_id, params, metrics)
