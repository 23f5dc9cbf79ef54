"""KFP component: The production version's lineage (JSON), or "" (bootstrap)."""

from kfp import dsl

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def resolve_production() -> str:
    """The production version's lineage (JSON), or "" (bootstrap).

    Calls `tickcast.orchestration.steps.resolve_production`, which runs
    `tickcast.ops.resolve_production.resolve_production`; `tickcast.orchestration.kfp_values.resolve_production` converts KFP's
    strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.resolve_production()
