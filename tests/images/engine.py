"""The container engine the image tests drive, through the Docker API that kfp.local's
DockerRunner speaks: a Docker daemon when one answers, else podman's (`podman system service`)
on a socket of the test's own, stopped when the tests end."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.processes import stopped_at_exit
from tickcast import __version__
from tickcast.orchestration.dag import PodSize

REGISTRY = os.environ.get("TICKCAST_IMAGE_REGISTRY", "localhost/tickcast")
TAG = os.environ.get("TICKCAST_IMAGE_TAG", __version__)
IMAGES = ("runtime", "trainer", "serving", "mlflow")
USER = "10001:10001"  # the images' user, and the chart's runAsUser/runAsGroup


def image(name: str) -> str:
    """What `make images` tags image `name` as."""
    return f"{REGISTRY}/{name}:{TAG}"


def unavailable(reason: str) -> None:
    """Skip, except under CI (`.ci/run` sets CI=true), where a skipped image test is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"the image tests cannot run here: {reason}", pytrace=False)
    pytest.skip(reason)


@contextmanager
def docker_api(directory: Path) -> Iterator[docker.DockerClient]:
    """A Docker API client, DOCKER_HOST set for the libraries that make their own (DockerRunner)."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException:
        pass
    else:
        with closing(client):
            yield client
        return
    if shutil.which("podman") is None:
        unavailable("no Docker daemon answers and podman is not installed (make container-tools)")
    socket = directory / "podman.sock"
    log = directory / "podman-service.log"
    with log.open("ab") as output:
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{socket}"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    with stopped_at_exit(service), pytest.MonkeyPatch.context() as environment:
        environment.setenv("DOCKER_HOST", f"unix://{socket}")
        deadline = time.monotonic() + 60
        while True:
            try:  # the client asks the server for its API version when made
                client = docker.DockerClient(base_url=f"unix://{socket}", timeout=600)
                break
            except (docker.errors.DockerException, OSError):
                if service.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"podman's Docker API did not answer: {log.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.2)
        with closing(client):
            yield client


def missing_images(client: docker.DockerClient) -> list[str]:
    tags = {tag for found in client.images.list() for tag in found.tags}
    return [image(name) for name in IMAGES if image(name) not in tags]


def container_options(
    env: dict[str, str], config_dir: Path | None = None, **extra: Any
) -> dict[str, Any]:
    """docker SDK run arguments of a pod as the chart runs it: the images' user, a read-only root
    with a writable /tmp (the chart's emptyDir), the host's network (the servers on 127.0.0.1),
    `env`, and the ConfigMap files of `config_dir` mounted read-only at /etc/tickcast."""
    mounts = []
    if config_dir is not None:
        mounts.append(
            docker.types.Mount(
                target="/etc/tickcast", source=str(config_dir), type="bind", read_only=True
            )
        )
    return {
        "user": USER,
        "read_only": True,
        "tmpfs": {"/tmp": "rw,size=2g,mode=1777"},
        "network_mode": "host",
        "environment": env,
        "mounts": mounts,
        **extra,
    }


def limits(size: PodSize) -> dict[str, int]:
    """docker SDK run arguments holding a container to a step pod's CPU and memory limits."""
    cpu = size.cpu_limit
    cores = float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)
    units = {"Mi": 2**20, "Gi": 2**30}
    memory = int(float(size.memory_limit[:-2]) * units[size.memory_limit[-2:]])
    return {"nano_cpus": int(cores * 1e9), "mem_limit": memory}


def run(
    client: docker.DockerClient, name: str, command: list[str], **options: Any
) -> tuple[int, str]:
    """Run `command` in image `name` to the end: its exit status and output."""
    container = client.containers.run(image(name), command, detach=True, **options)
    try:
        status = container.wait(timeout=900)["StatusCode"]
        return int(status), container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


@contextmanager
def started(
    client: docker.DockerClient, name: str, command: list[str] | None, **options: Any
) -> Iterator[Any]:
    """A container of image `name` running `command` (None: the image's), removed at the end."""
    container = client.containers.run(image(name), command, detach=True, **options)
    try:
        yield container
    finally:
        container.remove(force=True)
