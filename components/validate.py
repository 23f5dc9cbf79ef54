"""KFP component: Check the stored prices: missing, stale and gappy tickers, outlier returns."""

from kfp import dsl
from kfp.dsl import Markdown, Metrics, Output

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def validate(as_of: str, metrics: Output[Metrics], report: Output[Markdown]) -> int:
    """Check the stored prices: missing, stale and gappy tickers, outlier returns (and alert
    on quarantined or stale tickers).

    Calls `tickcast.orchestration.steps.validate`, which runs
    `tickcast.ops.validate.validate_stored`; `tickcast.orchestration.kfp_values.validate` converts
    KFP's strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.validate(as_of, metrics, report)
