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
from urllib.parse import urlsplit

import psycopg
import pytest
import yaml
from mlflow import MlflowClient

from tests.deploy.chart import render
from tests.deploy.pod import INTERPRETER, Account, Image, build_image, pod_environment
from tests.deploy.services import (
    mlflow_server,
    postgres_server,
    s3_client,
    s3_keys,
    s3_server,
)
from tests.processes import free_port

pytestmark = [
    pytest.mark.slow(seconds=75),
    pytest.mark.skipif(
        os.geteuid() != 0,
        reason="runs the steps as another, unprivileged account, which needs root (CI is root)",
    ),
]

NAMESPACE = "kubeflow"  # the chart's kfp.runNamespace: where pipeline pods run
BUCKET = "tickcast-test"
ACCESS_KEY = "tickcast-test-key"
TICKERS = ["SYN000", "SYN001", "SYN002", "SYN003"]
BOOTSTRAP_DAY, NEXT_DAY = "2017-06-30", "2017-07-03"


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
                    container=mlflow_container(chart),
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


def chart_values(
    password: str, pg_port: int, endpoint: str, secret_key: str, mlflow_port: int
) -> dict[str, Any]:
    """The chart with a managed PostgreSQL and S3 (the servers above) and a small market."""
    database = f"tickcast:{password}@127.0.0.1:{pg_port}"
    return {
        "postgres": {"enabled": False},
        "minio": {"enabled": False},
        "external": {
            "databaseUrl": f"postgresql://{database}/tickcast",
            "mlflowDatabaseUrl": f"postgresql+psycopg://{database}/mlflow",
            "s3": {
                "endpoint": endpoint,
                "bucket": BUCKET,
                "accessKey": ACCESS_KEY,
                "secretKey": secret_key,
            },
        },
        "config": {
            "tickers": TICKERS,
            "data": {"source": "synthetic", "synthetic": {"n_tickers": 4, "start": "2016-01-04"}},
            "extra": {
                # The chart's MLflow Service, as this machine reaches the server started above.
                "mlflow": {"tracking_uri": f"http://127.0.0.1:{mlflow_port}"},
                "dataset": {"sequence_length": 10},
                "training": {"max_epochs": 1},
                "tuning": {"max_epochs": 1},
            },
        },
    }


def mlflow_container(chart: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = next(
        doc
        for doc in chart
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "tickcast-mlflow"
    )
    return dict(deployment["spec"]["template"]["spec"]["containers"][0])


def secret_values(chart: list[dict[str, Any]], namespace: str) -> dict[tuple[str, str], str]:
    import base64

    return {
        (doc["metadata"]["name"], key): base64.b64decode(value).decode()
        for doc in chart
        if doc["kind"] == "Secret" and doc["metadata"]["namespace"] == namespace
        for key, value in doc.get("data", {}).items()
    }


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
        text = (release.image.workdir / f"pipelines/{name}.yaml").read_text()
        compiled = next(yaml.safe_load_all(text))
        steps = {task.removesuffix("-2") for task in compiled["root"]["dag"]["tasks"]}
        assert steps - {"condition-1"} <= ran, f"{name} steps that did not run: {steps - ran}"

    following = run_daily(release, NEXT_DAY, trials=0)
    assert f"Decision as of {NEXT_DAY}: keep" in following

    with psycopg.connect(release.database_url) as conn:
        prices = conn.execute("SELECT count(DISTINCT ticker) FROM raw_prices").fetchone()
        datasets = conn.execute("SELECT count(*) FROM datasets").fetchone()
        promotions = conn.execute(
            "SELECT action, promoted, bootstrap FROM model_promotions"
        ).fetchall()
        decisions = conn.execute(
            "SELECT as_of::text, decision FROM retrain_decisions ORDER BY as_of"
        ).fetchall()
        forecasts = conn.execute("SELECT count(*) FROM predictions").fetchone()
    assert prices == (len(TICKERS),) and datasets == (1,)
    assert promotions == [("promote", True, True)]
    assert decisions == [(BOOTSTRAP_DAY, "retrain"), (NEXT_DAY, "keep")]
    assert forecasts == (len(TICKERS),)

    client = MlflowClient(tracking_uri=release.mlflow_url, registry_uri=release.mlflow_url)
    production = client.get_model_version_by_alias("tickcast-forecaster", "production")
    assert production.version == "1"
    model = urlsplit(client.get_model_version_download_uri(production.name, production.version))
    assert (model.scheme, model.netloc) == ("s3", BUCKET), model.geturl()
    stored = s3_keys(release.s3, BUCKET, "")
    assert any(key.startswith(model.path.lstrip("/") + "/") for key in stored), stored
    for folder in ("artifacts/datasets/", "artifacts/predictions/history/"):
        assert any(key.startswith(folder) for key in stored), f"nothing under {folder}: {stored}"
