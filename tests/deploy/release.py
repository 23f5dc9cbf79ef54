"""A tickcast release as the deploy tests install it (the chart's values over servers started
here), and what a bootstrap day then a keep day must leave in its stores (the image test runs
the steps in their containers)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

import psycopg
import yaml
from mlflow import MlflowClient

from tests.deploy.services import s3_keys

NAMESPACE = "kubeflow"  # the chart's kfp.runNamespace: where pipeline pods run
BUCKET = "tickcast-test"
ACCESS_KEY = "tickcast-test-key"
TICKERS = ["SYN000", "SYN001", "SYN002", "SYN003"]
BOOTSTRAP_DAY, NEXT_DAY = "2017-06-30", "2017-07-03"
MODEL = "tickcast-forecaster"


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
            "serving": {"poll_seconds": 2},
            "extra": {
                # The chart's MLflow Service, as this machine reaches the server started above.
                "mlflow": {"tracking_uri": f"http://127.0.0.1:{mlflow_port}"},
                "dataset": {"sequence_length": 10},
                "training": {"max_epochs": 1},
                "tuning": {"max_epochs": 1},
            },
        },
    }


def chart_container(chart: list[dict[str, Any]], deployment: str) -> dict[str, Any]:
    """The first container of Deployment `deployment` as the chart renders it."""
    found = next(
        doc
        for doc in chart
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == deployment
    )
    return dict(found["spec"]["template"]["spec"]["containers"][0])


def secret_values(chart: list[dict[str, Any]], namespace: str) -> dict[tuple[str, str], str]:
    """(Secret name, key) -> decoded value, for the Secrets the chart renders in `namespace`."""
    return {
        (doc["metadata"]["name"], key): base64.b64decode(value).decode()
        for doc in chart
        if doc["kind"] == "Secret" and doc["metadata"]["namespace"] == namespace
        for key, value in doc.get("data", {}).items()
    }


def pipeline_steps(compiled: str) -> set[str]:
    """The task names of a compiled pipeline's root DAG (the condition excepted)."""
    tasks = next(yaml.safe_load_all(compiled))["root"]["dag"]["tasks"]
    return {task.removesuffix("-2") for task in tasks} - {"condition-1"}


def check_bootstrap_then_keep(database_url: str, mlflow_url: str, s3: Any) -> None:
    """The stores after a bootstrap day (retrain, promote) and a keep day: prices, one dataset,
    one promotion, both decisions, one forecast per ticker; version 1 in production, its files
    and the datasets and forecast history in the bucket."""
    with psycopg.connect(database_url) as conn:
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

    client = MlflowClient(tracking_uri=mlflow_url, registry_uri=mlflow_url)
    production = client.get_model_version_by_alias(MODEL, "production")
    assert production.version == "1"
    model = urlsplit(client.get_model_version_download_uri(production.name, production.version))
    assert (model.scheme, model.netloc) == ("s3", BUCKET), model.geturl()
    stored = s3_keys(s3, BUCKET, "")
    assert any(key.startswith(model.path.lstrip("/") + "/") for key in stored), stored
    for folder in ("artifacts/datasets/", "artifacts/predictions/history/"):
        assert any(key.startswith(folder) for key in stored), f"nothing under {folder}: {stored}"
