"""The images as the cluster runs them, on this machine's container engine (`make test-release`).

Both compiled pipelines run step by step in their images through kfp.local's DockerRunner, as
the images' user with a read-only root, configured only by what the chart renders (the
pipelines' ConfigMap and Secrets as env, the ConfigMap mounted at /etc/tickcast), against
servers like the chart's: PostgreSQL (version 16, from the runtime image's pgserver binaries),
`mlflow server` in the mlflow image (PostgreSQL backend, S3 artifacts) and an S3 endpoint (moto).
Then the serving image follows the production alias, and the mlflow image lists the model.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from kfp import local

from tests.deploy.chart import ROOT, render
from tests.deploy.pod import pod_configuration
from tests.deploy.release import (
    ACCESS_KEY,
    BOOTSTRAP_DAY,
    BUCKET,
    MODEL,
    NAMESPACE,
    NEXT_DAY,
    TICKERS,
    chart_container,
    chart_values,
    check_bootstrap_then_keep,
    pipeline_steps,
    secret_values,
)
from tests.deploy.services import answers, container_env, mlflow_arguments, s3_client, s3_server
from tests.images.engine import (
    container_options,
    docker_api,
    limits,
    missing_images,
    run,
    started,
    unavailable,
)
from tests.processes import free_port
from tickcast.config import Settings
from tickcast.orchestration.dag import POD_SIZES
from tickcast.orchestration.local import run_local
from tickcast.orchestration.packages import PipelineArguments

RELEASE_NAMESPACE = "tickcast"
PGSERVER_BIN = "/opt/tickcast/lib/python3.11/site-packages/pgserver/pginstall/bin"


@dataclass
class Release:
    client: Any  # docker.DockerClient
    workspace: Path
    pod: dict[str, Any]  # a pipeline step's container options (env, mounts, user, ...)
    serving_url: str
    serving: Any  # the serving container
    database_url: str
    mlflow_url: str
    s3: Any


def wait_until(
    ready: Callable[[], bool], what: str, seconds: float, logs: Callable[[], str]
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} within {seconds:.0f} s; logs end:\n{logs()[-4000:]}")


def postgres(client: Any, stack: ExitStack, password: str) -> int:
    """PostgreSQL 16 in the runtime image on 127.0.0.1 (data on the container's tmpfs), with
    role tickcast owning databases tickcast and mlflow; returns its port."""
    port = free_port()
    script = (
        f'printf %s "$PGPASSWORD" > /tmp/pw && {PGSERVER_BIN}/initdb -D /tmp/data -U postgres '
        "--pwfile=/tmp/pw --auth-local=trust --auth-host=scram-sha-256 >/dev/null && "
        f"exec {PGSERVER_BIN}/postgres -D /tmp/data -p {port} -k /tmp -c listen_addresses=127.0.0.1"
    )
    server = stack.enter_context(
        started(
            client,
            "runtime",
            ["sh", "-ec", script],
            **container_options({"PGPASSWORD": password}),
        )
    )
    admin = f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"

    def connects() -> bool:
        try:
            psycopg.connect(admin, connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            return False

    wait_until(connects, "PostgreSQL did not start", 120, lambda: server.logs().decode())
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("CREATE ROLE tickcast LOGIN PASSWORD {}").format(
                psycopg.sql.Literal(password)
            )
        )
        for database in ("tickcast", "mlflow"):
            conn.execute(
                psycopg.sql.SQL("CREATE DATABASE {} OWNER tickcast").format(
                    psycopg.sql.Identifier(database)
                )
            )
    return port


def config_files(workspace: Path, volumes: dict[str, dict[str, str]]) -> Path:
    """The ConfigMap the steps mount at /etc/tickcast, written to a folder to bind-mount."""
    assert list(volumes) == ["/etc/tickcast"], volumes
    folder = workspace / "etc-tickcast"
    folder.mkdir(parents=True)
    for key, text in volumes["/etc/tickcast"].items():
        (folder / key).write_text(text)
    return folder


@pytest.fixture(scope="module")
def release(helm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Release]:
    workspace = tmp_path_factory.mktemp("release")
    with ExitStack() as stack:
        client = stack.enter_context(docker_api(workspace))
        if missing := missing_images(client):
            unavailable(f"images not built: {missing} (make images)")
        password, secret_key = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
        pg_port = postgres(client, stack, password)
        endpoint = stack.enter_context(s3_server(workspace, ACCESS_KEY, secret_key, BUCKET))
        mlflow_port, serving_port = free_port(), free_port()
        values = workspace / "values.yaml"
        values.write_text(
            yaml.safe_dump(chart_values(password, pg_port, endpoint, secret_key, mlflow_port))
        )
        chart = render(helm, [values])

        mlflow = chart_container(chart, "tickcast-mlflow")
        mlflow_url = f"http://127.0.0.1:{mlflow_port}"
        mlflow_server = stack.enter_context(
            started(
                client,
                "mlflow",
                mlflow_arguments(mlflow, mlflow_port),
                **container_options(container_env(mlflow, secret_values(chart, RELEASE_NAMESPACE))),
            )
        )
        wait_until(
            lambda: answers(f"{mlflow_url}/health"),
            "the mlflow image did not answer /health",
            180,
            lambda: mlflow_server.logs().decode(),
        )

        pipelines = pod_configuration(ROOT / "pipelines", chart, NAMESPACE)
        pod = container_options(pipelines.env, config_files(workspace, pipelines.volumes))

        serving = chart_container(chart, "tickcast-serving")
        serving_config = pod_configuration(ROOT / "pipelines", chart, RELEASE_NAMESPACE)
        args = [*serving["args"]]
        args[args.index("--port") + 1] = str(serving_port)
        args[args.index("--host") + 1] = "127.0.0.1"
        service = stack.enter_context(
            started(
                client,
                "serving",
                args,
                **container_options(
                    container_env(serving, secret_values(chart, RELEASE_NAMESPACE)),
                    config_files(workspace / "serving", serving_config.volumes),
                ),
            )
        )
        serving_url = f"http://127.0.0.1:{serving_port}"
        wait_until(
            lambda: answers(f"{serving_url}/healthz"),
            "the serving image did not answer /healthz",
            180,
            lambda: service.logs().decode(),
        )
        yield Release(
            client=client,
            workspace=workspace,
            pod=pod,
            serving_url=serving_url,
            serving=service,
            database_url=pipelines.env["TICKCAST_DATABASE__URL"],
            mlflow_url=mlflow_url,
            s3=s3_client(endpoint, ACCESS_KEY, secret_key),
        )


# The digest of tickcast's Python files: of the folder given, else of the installed package.
SOURCES_DIGEST = """
import hashlib, pathlib, sys
root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else __import__("tickcast").__file__)
root = root if root.is_dir() else root.parent
files = sorted(root.rglob("*.py"))
print(hashlib.sha256(b"".join(p.relative_to(root).as_posix().encode() + p.read_bytes() for p in files)).hexdigest())
"""


def test_every_image_runs_this_checkouts_code_as_its_user(release: Release) -> None:
    """Every tickcast image imports the stack as uid 10001 on a read-only root, and holds the
    checkout's tickcast (a build cache that reused an older layer would test old code)."""
    probe = "import os, tickcast, torch, lightgbm, mlflow, kfp, ray, bentoml; print(os.getuid())"
    here = subprocess.run(
        [sys.executable, "-c", SOURCES_DIGEST, str(ROOT / "src/tickcast")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for name in ("runtime", "trainer", "serving"):
        status, output = run(release.client, name, ["python", "-c", probe], **container_options({}))
        assert (status, output.strip().splitlines()[-1]) == (0, "10001"), (name, output)
        status, digest = run(
            release.client, name, ["python", "-c", SOURCES_DIGEST], **container_options({})
        )
        assert (status, digest.strip()) == (0, here), (
            f"{name} holds other tickcast code: make images"
        )
    status, output = run(release.client, "trainer", [], **container_options({}))
    assert status == 0 and "CUDA available: False" in output, output  # TORCH_VARIANT=cpu
    status, output = run(release.client, "runtime", ["touch", "/app/x"], **container_options({}))
    assert status != 0 and "Read-only file system" in output, output


def test_the_service_waits_for_a_first_model(release: Release) -> None:
    ready = httpx.get(f"{release.serving_url}/readyz")
    assert ready.status_code == 503, ready.text
    assert ready.json()["reason"].startswith("no production model yet"), ready.text


def test_both_pipelines_run_in_their_images(release: Release) -> None:
    root = release.workspace / "kfp"
    root.mkdir()
    root.chmod(0o777)  # written by the images' user, at the same path in every container
    settings = Settings(kfp={"local_root": str(root), "pipelines_dir": str(ROOT / "pipelines")})
    runner = local.DockerRunner(**release.pod)
    bootstrap = run_local(
        settings,
        "daily",
        PipelineArguments(as_of=date.fromisoformat(BOOTSTRAP_DAY), trials=2),
        runner=runner,
    )
    ran = {task.task for task in bootstrap.tasks if task.status == "SUCCESS"}
    for name in ("daily", "retraining"):
        steps = pipeline_steps((ROOT / f"pipelines/{name}.yaml").read_text())
        assert steps <= ran, f"{name} steps that did not run in their images: {steps - ran}"
    run_local(
        settings,
        "daily",
        PipelineArguments(as_of=date.fromisoformat(NEXT_DAY), trials=0),
        runner=runner,
    )
    check_bootstrap_then_keep(release.database_url, release.mlflow_url, release.s3)


def test_the_service_serves_the_promoted_model(release: Release) -> None:
    wait_until(
        lambda: answers(f"{release.serving_url}/readyz"),
        "the service did not become ready",
        120,
        lambda: release.serving.logs().decode(),
    )
    assert httpx.get(f"{release.serving_url}/readyz").json()["model_version"] == 1
    answer = httpx.post(f"{release.serving_url}/predict", json={"tickers": TICKERS}, timeout=60)
    assert answer.status_code == 200, answer.text
    forecasts = answer.json()["forecasts"]
    assert sorted(f["ticker"] for f in forecasts) == TICKERS


def test_a_version_trained_in_the_trainer_image_is_swapped_in(release: Release) -> None:
    # kfp.local ignores a step's resources: the train step runs here within its pod's limits.
    trained_status, trained = run(
        release.client,
        "trainer",
        ["tickcast", "train", "--epochs", "1"],
        **release.pod,
        **limits(POD_SIZES["heavy"]),
    )
    assert trained_status == 0, trained[-4000:]
    promoted_status, promoted = run(
        release.client,
        "runtime",
        ["tickcast", "model", "promote", "2", "--reason", "image test"],
        **release.pod,
    )
    assert promoted_status == 0, promoted[-4000:]
    wait_until(
        lambda: httpx.get(f"{release.serving_url}/model").json().get("version") == 2,
        "the service did not swap in version 2",
        60,
        lambda: release.serving.logs().decode(),
    )
    release.serving.reload()
    assert release.serving.status == "running"
    assert release.serving.attrs["RestartCount"] == 0
    answer = httpx.post(f"{release.serving_url}/predict", json={"tickers": TICKERS}, timeout=60)
    assert answer.status_code == 200, answer.text


def test_the_mlflow_image_lists_the_registered_model(release: Release) -> None:
    assert httpx.get(f"{release.mlflow_url}/health").text.strip() == "OK"
    found = httpx.get(
        f"{release.mlflow_url}/api/2.0/mlflow/registered-models/get", params={"name": MODEL}
    )
    assert found.status_code == 200, found.text
    model = found.json()["registered_model"]
    assert {alias["alias"]: alias["version"] for alias in model["aliases"]} == {"production": "2"}
