"""KFP component: Fetch and store new prices (incremental, validated, bulk)."""

from kfp import dsl
from kfp.dsl import Metrics, Output

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def ingest(as_of: str, metrics: Output[Metrics]) -> str:
    """Fetch and store new prices (incremental, validated, bulk).

    Calls `tickcast.orchestration.steps.ingest`, which runs
    `tickcast.data.ingest.ingest_prices`; `tickcast.orchestration.kfp_values.ingest` converts KFP's
    strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.ingest(as_of, metrics)
