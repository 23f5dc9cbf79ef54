"""What a pipeline step's pod gets from the chart: the environment variables and the ConfigMap
volumes that the compiled pipelines ask kfp-kubernetes for, filled from the documents the chart
renders (the image test runs the steps with them; the install-flow test checks them)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PIPELINES = ("daily", "retraining")


@dataclass(frozen=True)
class PodConfiguration:
    """What every step's pod gets from the chart, as the compiled pipelines ask kfp-kubernetes
    for it: environment variables (ConfigMap values and Secrets) and ConfigMap volumes."""

    config_env: dict[str, str]  # from ConfigMaps: paths among them name the pod's mounts
    secret_env: dict[str, str]
    volumes: dict[str, dict[str, str]]  # mount path -> file name -> text

    @property
    def env(self) -> dict[str, str]:
        return {**self.config_env, **self.secret_env}


def pod_configuration(
    pipelines_dir: Path, chart: list[dict[str, Any]], namespace: str
) -> PodConfiguration:
    """The configuration of every step of both compiled pipelines (one for all), filled from
    the documents the chart renders in `namespace`."""
    specs = []
    for name in PIPELINES:
        docs = list(yaml.safe_load_all((pipelines_dir / f"{name}.yaml").read_text()))
        executors = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
        specs += [_configuration(spec) for spec in executors.values()]
    assert all(spec == specs[0] for spec in specs), "steps read their configuration differently"
    config_maps, secrets, volumes = specs[0]

    def data(kind: str, name: str) -> dict[str, str] | None:
        found = [
            doc
            for doc in chart
            if doc["kind"] == kind
            and doc["metadata"]["name"] == name
            and doc["metadata"]["namespace"] == namespace
        ]
        return dict(found[0].get("data", {})) if found else None

    mounted: dict[str, dict[str, str]] = {}
    for name, mount_path in volumes:
        files = data("ConfigMap", name)
        assert files is not None, f"the chart renders no ConfigMap {name} in {namespace}"
        mounted[mount_path] = files
    env: dict[str, dict[str, str]] = {"ConfigMap": {}, "Secret": {}}
    for kind, items in (("ConfigMap", config_maps), ("Secret", secrets)):
        for name, keys, optional in items:
            values = data(kind, name)
            if values is None:
                assert optional, f"the chart renders no {kind} {name} in {namespace}"
                continue
            for key, variable in keys:
                value = values[key]
                env[kind][variable] = (
                    base64.b64decode(value).decode() if kind == "Secret" else value
                )
    return PodConfiguration(config_env=env["ConfigMap"], secret_env=env["Secret"], volumes=mounted)


Keys = tuple[tuple[str, str], ...]


def _configuration(
    spec: dict[str, Any],
) -> tuple[
    tuple[tuple[str, Keys, bool], ...],
    tuple[tuple[str, Keys, bool], ...],
    tuple[tuple[str, str], ...],
]:
    config_maps = tuple(
        (
            item["configMapName"],
            tuple((k["configMapKey"], k["envVar"]) for k in item["keyToEnv"]),
            bool(item.get("optional")),
        )
        for item in spec.get("configMapAsEnv", [])
    )
    secrets = tuple(
        (
            item["secretName"],
            tuple((k["secretKey"], k["envVar"]) for k in item["keyToEnv"]),
            bool(item.get("optional")),
        )
        for item in spec.get("secretAsEnv", [])
    )
    volumes = tuple(
        (item["configMapName"], item["mountPath"]) for item in spec.get("configMapAsVolume", [])
    )
    return config_maps, secrets, volumes
