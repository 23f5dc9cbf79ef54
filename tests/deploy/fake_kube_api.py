"""A stand-in for the few Kubernetes API endpoints `helm template --dry-run=server` reads: the
version, discovery of the core group, and GETs of namespaces, services and secrets that exist
or not. Enough for the chart's `lookup` calls to see a cluster, on a real local HTTP port."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.processes import http_server

# What discovery lists: group/version -> resource -> (kind, namespaced); the kinds the chart renders.
RESOURCES: dict[str, dict[str, tuple[str, bool]]] = {
    "v1": {
        "namespaces": ("Namespace", False),
        "services": ("Service", True),
        "secrets": ("Secret", True),
        "configmaps": ("ConfigMap", True),
        "serviceaccounts": ("ServiceAccount", True),
        "pods": ("Pod", True),
        "persistentvolumeclaims": ("PersistentVolumeClaim", True),
    },
    "apps/v1": {"deployments": ("Deployment", True), "statefulsets": ("StatefulSet", True)},
    "batch/v1": {"jobs": ("Job", True), "cronjobs": ("CronJob", True)},
    "networking.k8s.io/v1": {
        "networkpolicies": ("NetworkPolicy", True),
        "ingresses": ("Ingress", True),
    },
    "rbac.authorization.k8s.io/v1": {
        "roles": ("Role", True),
        "rolebindings": ("RoleBinding", True),
    },
}


def _resource_list(group_version: str) -> dict[str, Any]:
    listed = [
        {
            "name": name,
            "singularName": kind.lower(),
            "namespaced": namespaced,
            "kind": kind,
            "verbs": ["get", "list", "create"],
        }
        for name, (kind, namespaced) in RESOURCES[group_version].items()
    ]
    return {"kind": "APIResourceList", "groupVersion": group_version, "resources": listed}


def _not_found(what: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": f"{what} not found",
        "reason": "NotFound",
        "code": 404,
    }


@contextmanager
def fake_kube_api(
    namespaces: set[str],
    services: set[tuple[str, str]],
    secrets: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> Iterator[str]:
    """Serve a cluster holding `namespaces`, (namespace, name) `services` and `secrets` (each
    its `data`, base64-encoded as the API serves it, and its metadata's `labels` and
    `annotations`); yields its URL."""
    secrets = secrets or {}

    def answer(path: str) -> tuple[int, dict[str, Any]]:
        parts = [part for part in path.split("?")[0].split("/") if part]
        if parts == ["version"]:
            return 200, {
                "major": "1",
                "minor": "34",
                "gitVersion": "v1.34.0",
                "platform": "linux/amd64",
            }
        if parts == ["api"]:
            return 200, {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [],
            }
        if parts == ["apis"]:
            groups = [
                {
                    "name": group_version.split("/")[0],
                    "versions": [{"groupVersion": group_version, "version": "v1"}],
                    "preferredVersion": {"groupVersion": group_version, "version": "v1"},
                }
                for group_version in RESOURCES
                if "/" in group_version
            ]
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        if parts == ["api", "v1"]:
            return 200, _resource_list("v1")
        if len(parts) == 3 and parts[0] == "apis" and f"{parts[1]}/{parts[2]}" in RESOURCES:
            return 200, _resource_list(f"{parts[1]}/{parts[2]}")
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 4:
            name = parts[3]
            if name in namespaces:
                return 200, {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name}}
            return 404, _not_found(f'namespaces "{name}"')
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 6:
            namespace, resource, name = parts[3], parts[4], parts[5]
            metadata = {"name": name, "namespace": namespace}
            if resource == "services" and (namespace, name) in services:
                return 200, {"kind": "Service", "apiVersion": "v1", "metadata": metadata}
            if resource == "secrets" and (namespace, name) in secrets:
                secret = secrets[(namespace, name)]
                metadata |= {key: secret.get(key, {}) for key in ("labels", "annotations")}
                return 200, {
                    "kind": "Secret",
                    "apiVersion": "v1",
                    "metadata": metadata,
                    "data": secret["data"],
                }
            return 404, _not_found(f'{resource} "{name}"')
        return 404, _not_found(path)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = answer(self.path)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            pass

    with http_server(Handler) as url:
        yield url


def kubeconfig(path: Path, url: str) -> Path:
    """A kubeconfig whose current context is the server at `url`."""
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "stand-in", "cluster": {"server": url}}],
                "users": [{"name": "stand-in", "user": {"token": "stand-in"}}],
                "contexts": [
                    {"name": "stand-in", "context": {"cluster": "stand-in", "user": "stand-in"}}
                ],
                "current-context": "stand-in",
            }
        )
    )
    return path
