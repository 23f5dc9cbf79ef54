"""KFP component: Fetch and store new prices (incremental, validated, bulk)."""

from kfp import dsl
from kfp.dsl import Metrics, Output

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def ingest(as_of: str, metrics: Output[Metrics]) -> str:
    """Fetch and store new prices (incremental, validated, bulk).

    Calls `tickcast.orchestration.steps.ingest`, which runs
    `tickcast.data.ingest.ingest_prices`.
    """
    from tickcast.orchestration import steps

    return steps.ingest(as_of, metrics).output
