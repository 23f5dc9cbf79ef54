"""Kubeflow Pipelines on a cluster: submit a run, upload pipeline versions, schedule the daily run.

With a host (`--host` or kfp.host) the client talks to that URL: a port-forwarded ml-pipeline-ui,
or http://ml-pipeline.kubeflow.svc.cluster.local:8888 from a pod; without one, KFP's in-cluster
default. A pod's projected KFP service-account token is sent when there is one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from tickcast import __version__
from tickcast.config import Settings
from tickcast.orchestration.cron import kfp_cron
from tickcast.orchestration.packages import (
    DISPLAY_NAMES,
    PIPELINE_NAMES,
    OrchestrationError,
    PipelineArguments,
    PipelineName,
    cluster_package,
)

if TYPE_CHECKING:
    from kfp import Client

T = TypeVar("T")

_DESCRIPTIONS: dict[PipelineName, str] = {
    "daily": "tickcast: ingest, validate, predict, monitor, decide (retraining nested).",
    "retraining": "tickcast: dataset, search, candidate, evaluation, promotion.",
}


class SubmittedRun(BaseModel):
    run_id: str
    url: str
    state: str | None = None  # the final state when waited for


class UploadedPipeline(BaseModel):
    name: str
    pipeline_id: str
    version_id: str | None  # None when that version was already uploaded
    version_name: str


class ScheduledRun(BaseModel):
    recurring_run_id: str
    name: str
    cron: str
    replaced: int  # earlier recurring runs of the same name that this one replaces


def kfp_client(settings: Settings, host: str | None = None) -> Client:
    """A client for `host` (default kfp.host; none: in-cluster), checked to answer."""
    from kfp import Client
    from kfp.client import KF_PIPELINES_SA_TOKEN_PATH, ServiceAccountTokenVolumeCredentials

    host = host or settings.kfp.host
    if host is None and "KUBERNETES_SERVICE_HOST" not in os.environ:
        raise OrchestrationError(
            "no Kubeflow Pipelines host: pass --host URL (or set kfp.host); without one tickcast "
            "uses the in-cluster API, which only works inside a pod"
        )
    # A pod with a projected service-account token (audience pipelines.kubeflow.org) sends it,
    # host or not: multi-user KFP checks it against the RBAC of the namespace.
    token = Path(os.environ.get("KF_PIPELINES_SA_TOKEN_PATH", KF_PIPELINES_SA_TOKEN_PATH))
    credentials = ServiceAccountTokenVolumeCredentials() if token.exists() else None
    with _api_errors(_where(settings, host)), _quiet_client():
        return Client(host=host, namespace=settings.kfp.namespace, credentials=credentials)


def submit_run(
    settings: Settings,
    name: PipelineName,
    arguments: PipelineArguments,
    host: str | None = None,
    wait_seconds: float | None = None,
) -> SubmittedRun:
    """Start one run of the compiled pipeline in the configured experiment; with `wait_seconds`,
    wait that long for it to end and raise OrchestrationError unless it succeeded.

    With `wait_seconds`, a run of the experiment that is still active (the install's bootstrap
    run, one started by hand) is first waited for within the same budget: two runs at once would
    both retrain and race on the ingest."""
    client = kfp_client(settings, host)
    deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
    if deadline is not None:
        with _api_errors(_where(settings, host)):
            _wait_for_active_runs(client, settings, deadline)
    day = arguments.as_of.isoformat() if arguments.as_of else "latest"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    with _api_errors(_where(settings, host)), tempfile.TemporaryDirectory() as scratch:
        result = client.create_run_from_pipeline_package(
            str(cluster_package(settings, name, Path(scratch))),
            arguments=arguments.as_parameters(),
            run_name=f"{DISPLAY_NAMES[name]} {day} {stamp}",
            experiment_name=settings.kfp.experiment,
            namespace=settings.kfp.user_namespace,
        )
    base = host or settings.kfp.host
    url = f"{base.rstrip('/')}/#/runs/details/{result.run_id}" if base else result.run_id
    if deadline is None:
        return SubmittedRun(run_id=result.run_id, url=url)
    with _api_errors(_where(settings, host)):
        state = _wait_until_ended(client, result.run_id, deadline)
    if state is None:
        raise OrchestrationError(
            f"run {result.run_id} did not end within {wait_seconds:g} s: {url}"
        )
    if state != "SUCCEEDED":
        raise OrchestrationError(f"run {result.run_id} ended {state}: {url}")
    return SubmittedRun(run_id=result.run_id, url=url, state=state)


# Run states after which nothing more happens. kfp 2.17's wait_for_run_completion knows only
# succeeded/failed/skipped/error, so it waited out its whole timeout on a cancelled run (and
# the daily trigger Job held on for hours).
ENDED_STATES = {"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED", "CANCELING"}


def _wait_for_active_runs(client: Any, settings: Settings, deadline: float) -> None:
    """Return once no run of the experiment is active; raise OrchestrationError at `deadline`."""
    try:
        experiment = client.get_experiment(
            experiment_name=settings.kfp.experiment, namespace=settings.kfp.user_namespace
        )
    except ValueError:  # no such experiment yet: nothing has run
        return
    active: list[str] = []

    def none_active() -> bool | None:
        listed = client.list_runs(
            experiment_id=experiment.experiment_id,
            page_size=100,
            sort_by="created_at desc",
            namespace=settings.kfp.user_namespace,
        )
        active[:] = [
            run.run_id for run in listed.runs or [] if str(run.state).upper() not in ENDED_STATES
        ]
        return True if not active else None

    if _polled(none_active, deadline) is None:
        raise OrchestrationError(
            f"run {active[0]} of experiment {settings.kfp.experiment} is still active: "
            "no second run was started beside it"
        )


def _wait_until_ended(client: Any, run_id: str, deadline: float) -> str | None:
    """The run's final state, or None when it has not ended by `deadline`."""

    def ended() -> str | None:
        state = str(client.get_run(run_id).state).upper()
        return state if state in ENDED_STATES else None

    return _polled(ended, deadline)


def _polled(check: Callable[[], T | None], deadline: float, poll_seconds: float = 5.0) -> T | None:
    """What `check` returns once it returns something, or None when `deadline` passed first."""
    while True:
        found = check()
        if found is not None or time.monotonic() >= deadline:
            return found
        time.sleep(min(poll_seconds, max(0.0, deadline - time.monotonic())))


def upload_pipelines(
    settings: Settings, host: str | None = None, names: tuple[PipelineName, ...] = PIPELINE_NAMES
) -> list[UploadedPipeline]:
    """Upload each compiled pipeline, or a new version of it; a version is named after
    tickcast's version and the package's content, so uploading the same package twice is a no-op."""
    client = kfp_client(settings, host)
    return [_upload(client, settings, name, _where(settings, host)) for name in names]


def schedule_daily(
    settings: Settings,
    cron: str,
    arguments: PipelineArguments,
    host: str | None = None,
    name: str = "tickcast-daily",
) -> ScheduledRun:
    """A recurring run of the daily pipeline (KFP cron: six fields, UTC), replacing an earlier
    recurring run of the same name; catch-up is off and at most one run is active at a time."""
    expression = kfp_cron(cron)
    client = kfp_client(settings, host)
    uploaded = _upload(client, settings, "daily", _where(settings, host))
    with _api_errors(_where(settings, host)):
        experiment = client.create_experiment(
            settings.kfp.experiment, namespace=settings.kfp.user_namespace
        )
        version_id = uploaded.version_id or _version_id(client, uploaded)
        earlier = client.list_recurring_runs(
            experiment_id=experiment.experiment_id, page_size=100
        ).recurring_runs
        replaced = [run for run in earlier or [] if run.display_name == name]
        # The new schedule first, then the old ones go: if creating it fails, the old schedule
        # keeps running instead of none at all.
        created = client.create_recurring_run(
            experiment_id=experiment.experiment_id,
            job_name=name,
            description=f"tickcast daily run, cron {expression} (UTC)",
            cron_expression=expression,
            max_concurrency=1,
            no_catchup=True,
            params=arguments.as_parameters(),
            pipeline_id=uploaded.pipeline_id,
            version_id=version_id,
        )
        for run in replaced:
            client.delete_recurring_run(run.recurring_run_id)
    return ScheduledRun(
        recurring_run_id=created.recurring_run_id,
        name=name,
        cron=expression,
        replaced=len(replaced),
    )


def _upload(client: Client, settings: Settings, name: PipelineName, where: str) -> UploadedPipeline:
    """Create the pipeline when it is new (empty: every version is then named the same way) and
    upload the package as version `<tickcast version>-<sha256[:12]>`; 409 means it is there."""
    import kfp_server_api
    from kfp_server_api.exceptions import ApiException

    title = DISPLAY_NAMES[name]
    # Multi-user KFP authorises a shared pipeline (no namespace) in its own system namespace,
    # where tickcast's Role does not reach: there the pipeline belongs to the user namespace.
    namespace = settings.kfp.user_namespace
    with tempfile.TemporaryDirectory() as scratch, _api_errors(where):
        package = cluster_package(settings, name, Path(scratch))
        version = f"{__version__}-{hashlib.sha256(package.read_bytes()).hexdigest()[:12]}"
        pipeline_id = _pipeline_id(client, title, namespace)
        if pipeline_id is None:
            # kfp.Client has no call for an empty pipeline; its own API object has.
            created = client._pipelines_api.pipeline_service_create_pipeline(
                kfp_server_api.V2beta1Pipeline(
                    display_name=title, description=_DESCRIPTIONS[name], namespace=namespace
                )
            )
            pipeline_id = str(created.pipeline_id)
        try:
            uploaded = client.upload_pipeline_version(
                str(package), version, pipeline_id=pipeline_id
            )
        except ApiException as error:
            if error.status != 409:  # 409: this version (same content) is already there
                raise
            return UploadedPipeline(
                name=title, pipeline_id=pipeline_id, version_id=None, version_name=version
            )
    return UploadedPipeline(
        name=title,
        pipeline_id=pipeline_id,
        version_id=uploaded.pipeline_version_id,
        version_name=version,
    )


def _pipeline_id(client: Client, title: str, namespace: str | None) -> str | None:
    """The id of the pipeline named `title` (in `namespace` on multi-user KFP), if any."""
    # Operation 1 is EQUALS, encoded as kfp.Client's own get_pipeline_id encodes it.
    equals = {"operation": 1, "key": "display_name", "stringValue": title}
    found = client._pipelines_api.pipeline_service_list_pipelines(
        filter=json.dumps({"predicates": [equals]}), namespace=namespace
    ).pipelines
    return str(found[0].pipeline_id) if found else None


def _version_id(client: Client, uploaded: UploadedPipeline) -> str:
    """The id of an already uploaded version, found by its name."""
    token = ""
    while True:
        page = client.list_pipeline_versions(uploaded.pipeline_id, page_token=token, page_size=100)
        for version in page.pipeline_versions or []:
            if version.display_name == uploaded.version_name:
                return str(version.pipeline_version_id)
        token = page.next_page_token or ""
        if not token:
            raise OrchestrationError(
                f"{uploaded.name}: version {uploaded.version_name} not found after upload"
            )


def _where(settings: Settings, host: str | None) -> str:
    return host or settings.kfp.host or "the in-cluster API"


@contextmanager
def _quiet_client() -> Iterator[None]:
    """No retry chatter from urllib3 and no notice about old KFP servers: errors say it once."""
    pool = logging.getLogger("urllib3.connectionpool")
    level = pool.level
    pool.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module="kfp")
            yield
    finally:
        pool.setLevel(level)


@contextmanager
def _api_errors(where: str) -> Iterator[None]:
    """Unreachable hosts and API refusals become one-line OrchestrationErrors."""
    from kfp_server_api.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        yield
    except HTTPError as error:
        reason: Any = getattr(error, "reason", None) or error
        raise OrchestrationError(
            f"Kubeflow Pipelines at {where} is unreachable: {reason}"
        ) from None
    except ApiException as error:
        raise OrchestrationError(
            f"Kubeflow Pipelines at {where} refused the request: {error.status} {error.reason}: "
            f"{(error.body or '').strip()[:300]}"
        ) from None
