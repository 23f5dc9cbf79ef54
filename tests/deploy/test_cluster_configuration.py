"""The cluster configuration, run on this machine as far as it goes (no cluster, no Docker).

Both pipelines' steps run as an unprivileged account from the runtime image's read-only working
directory, configured only by what the chart renders (the ConfigMap mounted and mapped into env,
the Secrets as env) against servers like the chart's: PostgreSQL over TCP with a password,
`mlflow server` with its PostgreSQL backend and S3 artifacts, and an S3 endpoint (moto) as the
artifact root. kfp.local stands in for KFP's driver and launcher: it runs every step as a
subprocess of the image's Python, in a pipeline root of its own.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.chart import render
from tests.deploy.pod import INTERPRETER, Account, Image, build_image, pod_environment
from tests.deploy.release import (
    ACCESS_KEY,
    BOOTSTRAP_DAY,
    BUCKET,
    NAMESPACE,
    NEXT_DAY,
    chart_container,
    chart_values,
    check_bootstrap_then_keep,
    pipeline_steps,
    secret_values,
)
from tests.deploy.services import mlflow_server, postgres_server, s3_client, s3_server
from tests.processes import free_port

pytestmark = [
    pytest.mark.slow(seconds=75),
    pytest.mark.skipif(
        bool(os.environ.get("TICKCAST_IMAGE_TESTS")),
        reason="make test-images runs both pipelines in the images instead (.ci/run runs both)",
    ),
    pytest.mark.skipif(
        os.geteuid() != 0,
        reason="runs the steps as another, unprivileged account, which needs root (CI is root)",
    ),
]


@dataclass
class Release:
    account: Account
    image: Image
    env: dict[str, str]  # a step's environment: the image's ENV and what the pod spec adds
    database_url: str
    mlflow_url: str
    s3: Any  # boto3 S3 client
    kfp_root: Path


@pytest.fixture(scope="module")
def release(helm: Path) -> Iterator[Release]:
    account = Account.unprivileged()
    # Not the test's tmp_path: pytest's base folder is private to root, and the account must
    # reach the image's files through every parent folder.
    workspace = Path(tempfile.mkdtemp(prefix="tickcast-cluster-"))
    workspace.chmod(0o755)
    try:
        image = build_image(workspace, account)
        site_packages = image.path("/opt/tickcast") / f"lib/{INTERPRETER}/site-packages"
        password, secret_key = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
        with ExitStack() as services:
            pg_port = services.enter_context(
                postgres_server(
                    account, site_packages, workspace / "postgres", password, ["tickcast", "mlflow"]
                )
            )
            endpoint = services.enter_context(s3_server(workspace, ACCESS_KEY, secret_key, BUCKET))
            mlflow_port = free_port()
            values = workspace / "values.yaml"
            values.write_text(
                yaml.safe_dump(chart_values(password, pg_port, endpoint, secret_key, mlflow_port))
            )
            chart = render(helm, [values])
            env = {**image.env, **pod_environment(image, chart, NAMESPACE)}
            mlflow_url = services.enter_context(
                mlflow_server(
                    account,
                    image.python,
                    port=mlflow_port,
                    container=chart_container(chart, "tickcast-mlflow"),
                    secrets=secret_values(chart, "tickcast"),
                    env=image.env,
                    cwd=image.workdir,
                    log=workspace / "mlflow.log",
                )
            )
            yield Release(
                account=account,
                image=image,
                env=env,
                database_url=env["TICKCAST_DATABASE__URL"],
                mlflow_url=mlflow_url,
                s3=s3_client(endpoint, ACCESS_KEY, secret_key),
                kfp_root=account.owns(workspace / "kfp"),
            )
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def run_daily(release: Release, as_of: str, trials: int) -> str:
    """`tickcast run daily --local` as the account, from the image's working directory."""
    command = [str(release.image.python), "-m", "tickcast", "run", "daily", "--local"]
    ran = release.account.run(
        [*command, "--as-of", as_of, "--trials", str(trials)],
        env={
            **release.env,
            "TICKCAST_KFP__LOCAL_ROOT": str(release.kfp_root),  # KFP's pipeline root
            "COLUMNS": "200",
        },
        cwd=release.image.workdir,
        timeout=600,
    )
    assert ran.returncode == 0, (ran.stdout + ran.stderr)[-5000:]
    return ran.stdout


def test_the_account_runs_the_image_not_the_checkout(release: Release) -> None:
    account, image = release.account, release.image
    assert not account.can("touch", str(image.workdir / "written-by-a-step"))
    probe = account.run(
        [str(image.python), "-c", "import tickcast, torch, mlflow, kfp; print(tickcast.__file__)"],
        env=release.env,
        cwd=image.workdir,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.startswith(str(image.path("/opt/tickcast")))
    assert release.env["TICKCAST_CONFIG"] == str(image.path("/etc/tickcast/tickcast.yaml"))
    assert release.env["TICKCAST_DATABASE__URL"].startswith("postgresql://tickcast:")
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"} <= set(release.env)


def test_both_pipelines_run_as_the_cluster_configures_them(release: Release) -> None:
    bootstrap = run_daily(release, BOOTSTRAP_DAY, trials=2)
    assert "retrain (bootstrap)" in bootstrap and "promoted" in bootstrap
    ran = {path.name for path in release.kfp_root.rglob("*") if path.is_dir()}
    for name in ("daily", "retraining"):
        steps = pipeline_steps((release.image.workdir / f"pipelines/{name}.yaml").read_text())
        assert steps <= ran, f"{name} steps that did not run: {steps - ran}"

    following = run_daily(release, NEXT_DAY, trials=0)
    assert f"Decision as of {NEXT_DAY}: keep" in following
    check_bootstrap_then_keep(release.database_url, release.mlflow_url, release.s3)
