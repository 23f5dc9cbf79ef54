"""KFP component: The production model version, or "bootstrap"."""

from kfp import dsl

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def resolve_production() -> str:
    """The production model version, or "bootstrap"."""
    from tickcast.orchestration import steps

    return steps.resolve_production()
