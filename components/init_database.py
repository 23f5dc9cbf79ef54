"""KFP component: Apply pending database migrations."""

from kfp import dsl

from tickcast.orchestration.images import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def init_database() -> int:
    """Apply pending database migrations.

    Calls `tickcast.orchestration.steps.init_database`, which runs
    `tickcast.db.migrate.init_database`; `tickcast.orchestration.kfp_values.init_database` converts KFP's
    strings to its inputs and its output back.
    """
    from tickcast.orchestration import kfp_values

    return kfp_values.init_database()
