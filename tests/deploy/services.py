"""The services a tickcast release talks to, as the image test starts them: an S3 endpoint (moto's
server mode) on 127.0.0.1, and `mlflow server` with the chart's own arguments and environment."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

from tests.processes import free_port, stopped_at_exit


def wait_until(ready: Callable[[], bool], what: str, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    raise AssertionError(f"{what} did not come up within {seconds:.0f} s; its log ends:\n{tail}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def s3_server(directory: Path, access_key: str, secret_key: str, bucket: str) -> Iterator[str]:
    """moto's S3 in server mode with `bucket` created; yields the endpoint URL."""
    port, log = free_port(), directory / "moto.log"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    with stopped_at_exit(process):
        endpoint = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers(f"{endpoint}/moto-api/"), "moto's S3 server", log)
        s3_client(endpoint, access_key, secret_key).create_bucket(Bucket=bucket)
        yield endpoint


def s3_client(endpoint: str, access_key: str, secret_key: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
    )


def s3_keys(client: Any, bucket: str, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def container_env(container: dict[str, Any], secrets: dict[tuple[str, str], str]) -> dict[str, str]:
    """A rendered container's `env`, values and secretKeyRefs resolved."""
    env = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secrets[(ref["name"], ref["key"])]
    return env


def mlflow_arguments(container: dict[str, Any], port: int) -> list[str]:
    """The chart's `mlflow server` arguments, listening on `port` of 127.0.0.1 instead."""
    args = list(container["args"])
    assert args[:2] == ["mlflow", "server"], args
    replaced = {"--host": "127.0.0.1", "--port": str(port)}
    for i, arg in enumerate(args):
        key = arg.partition("=")[0]
        if key in replaced:
            args[i] = f"{key}={replaced[key]}"
        elif key == "--allowed-hosts":
            args[i] = f"{arg},127.0.0.1:{port}"
    return args
