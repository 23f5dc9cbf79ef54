"""Both pipelines as data: their ordered steps, where each step's inputs come from, how each runs.

The KFP pipelines (`pipelines/daily.py`, `pipelines/retraining.py`) and the in-process runner
(`tickcast.orchestration.runner`, behind `tickcast daily`, `tickcast retrain`, the simulation and
the backtest) are both built from these tables, so a step added, removed or rewired here changes
both. A step's `function` names its function in `tickcast.orchestration.steps` and its component,
`components/<function>.py`; each step runs after the one before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Parameter:
    """A pipeline parameter (as_of, trials, ...)."""

    name: str


@dataclass(frozen=True)
class OutputOf:
    """The output of an earlier step of the same pipeline."""

    step: str


AS_OF = Parameter("as_of")


@dataclass(frozen=True)
class PodSize:
    """A step pod's requests and limits (Kubernetes quantities)."""

    cpu: str
    memory: str
    cpu_limit: str
    memory_limit: str


# Light: database bookkeeping. Standard: pandas + MLflow + a torch forward pass. Heavy: search and
# training. The requests fit a kind node of 4 CPUs and 8 GiB beside KFP and tickcast's services
# (README, "Deploy to Kubernetes"; tests/deploy/test_install_flow.py); the limits let a step use
# what a bigger node has.
POD_SIZES = {
    "light": PodSize(cpu="100m", memory="256Mi", cpu_limit="500m", memory_limit="1Gi"),
    "standard": PodSize(cpu="500m", memory="768Mi", cpu_limit="2", memory_limit="4Gi"),
    "heavy": PodSize(cpu="1", memory="1536Mi", cpu_limit="4", memory_limit="8Gi"),
}


@dataclass(frozen=True)
class Step:
    function: str
    display_name: str
    inputs: Mapping[str, Parameter | OutputOf] = field(default_factory=dict)
    size: Literal["light", "standard", "heavy"] = "standard"  # the pod's requests and limits
    retries: int = 0
    retry_backoff: str = "0s"
    cached: bool = False  # may KFP reuse an earlier run's result (same inputs)?
    gpus: str | None = None  # the pipeline parameter with this step's GPU count, if any


@dataclass(frozen=True)
class Branch:
    """Run the nested pipeline when `step`'s output equals `equals`."""

    step: str
    equals: str


DAILY: tuple[Step, ...] = (
    Step("init_database", "init database", size="light", retries=2, retry_backoff="30s"),
    Step("ingest", "ingest incremental", {"as_of": AS_OF}, retries=2, retry_backoff="30s"),
    Step("validate", "validate data", {"as_of": AS_OF}),
    Step("resolve_production", "resolve production", size="light", retries=2, retry_backoff="10s"),
    Step("predict", "predict", {"as_of": AS_OF, "production": OutputOf("resolve_production")}),
    Step("monitor", "monitor", {"as_of": AS_OF, "production": OutputOf("resolve_production")}),
    Step("decide", "decide", {"as_of": AS_OF, "monitoring": OutputOf("monitor")}, size="light"),
    # Retention: safe beside a retraining (a version not judged yet and a young dataset stay)
    Step("gc", "retention", size="light"),
)
# Steps a replay of history leaves out (a backtest): what only a live deployment needs.
LIVE_ONLY = ("gc",)
# The daily pipeline nests the retraining pipeline under this condition (bootstrap included).
RETRAIN_WHEN = Branch(step="decide", equals="retrain")

RETRAINING: tuple[Step, ...] = (
    Step("init_database", "init database", size="light", retries=2, retry_backoff="30s"),
    Step("build_dataset", "build dataset", {"as_of": AS_OF}),
    Step(
        "tune",
        "tune",
        {"dataset_id": OutputOf("build_dataset"), "trials": Parameter("trials")},
        size="heavy",
        cached=True,  # same dataset version and budget: the same search result
        gpus="search_gpus",
    ),
    Step(
        "train_candidate",
        "train candidate",
        {"dataset_id": OutputOf("build_dataset"), "params": OutputOf("tune")},
        size="heavy",
        gpus="gpus",
    ),
    Step("evaluate", "evaluate", {"model_version": OutputOf("train_candidate")}),
    Step("promote", "promote", {"evaluation": OutputOf("evaluate")}, size="light"),
)


def check(steps: tuple[Step, ...]) -> None:
    """Raise ValueError when a step reads the output of a step that does not run before it."""
    seen: set[str] = set()
    for step in steps:
        for argument, source in step.inputs.items():
            if isinstance(source, OutputOf) and source.step not in seen:
                raise ValueError(
                    f"step {step.function!r}: input {argument!r} reads {source.step!r}, "
                    "which does not run before it"
                )
        seen.add(step.function)


check(DAILY)
check(RETRAINING)
