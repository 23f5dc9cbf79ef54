"""A stand-in for the Kubeflow Pipelines v2beta1 REST API, on a real local HTTP port.

No KFP API server runs without a Kubernetes cluster, so the tests serve the few endpoints
tickcast's remote backend uses, with in-memory state that the tests then inspect. Responses are
built from kfp_server_api's own models, so the client parses them exactly as it would KFP's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

import kfp_server_api

from tests.processes import http_server

_SERIALIZE = kfp_server_api.ApiClient().sanitize_for_serialization
API = "/apis/v2beta1"


@dataclass
class FakeKfp:
    """What the API holds; `fail_path` makes requests to that path answer 500."""

    url: str = ""
    pipelines: dict[str, str] = field(default_factory=dict)  # id -> name
    versions: dict[str, list[dict[str, str]]] = field(
        default_factory=dict
    )  # pipeline id -> versions
    experiments: dict[str, str] = field(default_factory=dict)  # id -> name
    recurring_runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    run_state: str = "SUCCEEDED"  # what every run reports when asked
    states: dict[str, str] = field(default_factory=dict)  # run id -> its own state instead
    fail_path: str | None = None
    fail_method: str | None = None  # with fail_path: only this method fails (None: any)
    # Multi-user KFP: experiments need a namespace, and a pipeline without one (shared) is
    # authorised in the KFP system namespace, where a tenant's service account has no rights.
    multi_user: bool = False
    namespaces: dict[str, str | None] = field(default_factory=dict)  # pipeline/experiment id -> ns

    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        if (
            self.fail_path
            and path.startswith(self.fail_path)
            and self.fail_method in (None, method)
        ):
            return 500, {"error": "internal error", "message": "database is locked"}
        route = (method, path.removeprefix(API))
        if route == ("GET", "/healthz"):
            return 200, {"multi_user": self.multi_user}
        if route == ("GET", "/pipelines"):
            wanted = _filtered_name(query)
            found = [
                kfp_server_api.V2beta1Pipeline(pipeline_id=i, display_name=n)
                for i, n in self.pipelines.items()
                if wanted in (None, n)
            ]
            return 200, kfp_server_api.V2beta1ListPipelinesResponse(pipelines=found or None)
        if route == ("POST", "/pipelines"):
            if self.multi_user and not body.get("namespace"):
                return 403, {
                    "error": "PermissionDenied: user is not authorized to create "
                    "pipelines in namespace kubeflow",
                    "code": 7,
                }
            pipeline_id = _new_id()
            self.namespaces[pipeline_id] = body.get("namespace")
            self.pipelines[pipeline_id] = body["display_name"]
            self.versions[pipeline_id] = []
            return 200, {**body, "pipeline_id": pipeline_id}
        if route == ("POST", "/pipelines/upload_version"):
            pipeline_id, name = query["pipelineid"], query["name"]
            if any(v["display_name"] == name for v in self.versions[pipeline_id]):
                return 409, {"error": f"version {name} already exists", "code": 6}
            return 200, self._add_version(pipeline_id, name, body)
        if method == "GET" and path.startswith(f"{API}/pipelines/") and path.endswith("/versions"):
            pipeline_id = path.split("/")[-2]
            versions = [
                kfp_server_api.V2beta1PipelineVersion(
                    pipeline_id=pipeline_id,
                    pipeline_version_id=v["id"],
                    display_name=v["display_name"],
                )
                for v in self.versions[pipeline_id]
            ]
            return 200, kfp_server_api.V2beta1ListPipelineVersionsResponse(
                pipeline_versions=versions, next_page_token=""
            )
        if route == ("GET", "/experiments"):
            wanted = _filtered_name(query)
            found = [
                kfp_server_api.V2beta1Experiment(experiment_id=i, display_name=n)
                for i, n in self.experiments.items()
                if wanted in (None, n)
            ]
            return 200, kfp_server_api.V2beta1ListExperimentsResponse(experiments=found or None)
        if route == ("POST", "/experiments"):
            if self.multi_user and not body.get("namespace"):
                return 400, {
                    "error": "Invalid input error: in multi-user mode, the experiment's "
                    "namespace cannot be empty",
                    "code": 3,
                }
            experiment_id = _new_id()
            self.namespaces[experiment_id] = body.get("namespace")
            self.experiments[experiment_id] = body["display_name"]
            return 200, {**body, "experiment_id": experiment_id}
        if route == ("GET", "/recurringruns"):
            found = [
                kfp_server_api.V2beta1RecurringRun(
                    recurring_run_id=i, display_name=r["display_name"]
                )
                for i, r in self.recurring_runs.items()
                if r.get("experiment_id") == query.get("experiment_id")
            ]
            return 200, kfp_server_api.V2beta1ListRecurringRunsResponse(recurring_runs=found)
        if route == ("POST", "/recurringruns"):
            run_id = _new_id()
            self.recurring_runs[run_id] = body
            return 200, {**body, "recurring_run_id": run_id}
        if method == "DELETE" and path.startswith(f"{API}/recurringruns/"):
            run_id = path.rsplit("/", 1)[-1]
            self.recurring_runs.pop(run_id)
            self.deleted.append(run_id)
            return 200, {}
        if route == ("POST", "/runs"):
            run = {**body, "run_id": _new_id(), "state": "PENDING"}
            self.runs.append(run)
            return 200, run
        if route == ("GET", "/runs"):
            found = [
                {**run, "state": self.states.get(run["run_id"], self.run_state)}
                for run in reversed(self.runs)
                if run.get("experiment_id") == query.get("experiment_id")
            ]
            return 200, {"runs": found or None, "total_size": len(found)}
        if method == "GET" and path.startswith(f"{API}/runs/"):
            run_id = path.rsplit("/", 1)[-1]
            stored = next(run for run in self.runs if run["run_id"] == run_id)
            return 200, {**stored, "state": self.states.get(run_id, self.run_state)}
        return 404, {"error": f"no route {method} {path}"}

    def _add_version(self, pipeline_id: str, name: str, package: bytes) -> Any:
        version = {"id": _new_id(), "display_name": name, "package": package.decode()}
        self.versions[pipeline_id].append(version)
        return kfp_server_api.V2beta1PipelineVersion(
            pipeline_id=pipeline_id, pipeline_version_id=version["id"], display_name=name
        )


def _new_id() -> str:
    return str(uuid.uuid4())


def _filtered_name(query: dict[str, str]) -> str | None:
    if "filter" not in query:
        return None
    predicates = json.loads(query["filter"])["predicates"]
    return str(next(p["stringValue"] for p in predicates if p["key"] in ("display_name", "name")))


def _uploaded_file(content_type: str, raw: bytes) -> bytes:
    """The file part of a multipart/form-data body."""
    boundary = content_type.split("boundary=", 1)[1].encode()
    for part in raw.split(b"--" + boundary):
        if b"filename=" in part:
            return part.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0]
    raise ValueError("no file in the upload")


@contextmanager
def serve_fake_kfp() -> Iterator[FakeKfp]:
    api = FakeKfp()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type", "")
            body: Any = (
                _uploaded_file(content_type, raw)
                if content_type.startswith("multipart/")
                else (json.loads(raw) if raw else None)
            )
            status, answer = api.handle(method, parsed.path, query, body)
            payload = json.dumps(_SERIALIZE(answer)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

        def log_message(self, *_: Any) -> None:
            pass

    with http_server(Handler) as api.url:
        yield api
