"""What a first install, a reinstall and the smoke test do around the chart, offline: the smoke
waits are bounded and see a failure at once, the service's rollout outlasts the first model, the
generated passwords survive an uninstall. Stand-ins replace the cluster where one is needed."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.chart import ROOT, render

STAND_IN_KUBECTL = """#!/usr/bin/env bash
# kubectl as a Job in state $JOB_CONDITIONS would answer `get job -o jsonpath=...` and `logs`.
case "$*" in
    *" get job "*) printf '%s' "$JOB_CONDITIONS" ;;
    *" logs "*) echo "Error: run 1234 ended FAILED" ;;
    *) exit 2 ;;
esac
"""


def wait_job(
    tmp_path: Path, conditions: str, seconds: int
) -> tuple[subprocess.CompletedProcess[str], float]:
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(STAND_IN_KUBECTL)
    kubectl.chmod(0o755)
    started = time.monotonic()
    ended = subprocess.run(
        ["bash", str(ROOT / "deploy/wait-job.sh"), "tickcast", "tickcast-smoke", str(seconds)],
        env={
            **os.environ,
            "KUBECTL": str(kubectl),
            "JOB_CONDITIONS": conditions,
            "POLL_SECONDS": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    return ended, time.monotonic() - started


def test_the_smoke_wait_ends_at_once_when_the_job_fails(tmp_path: Path) -> None:
    failed, seconds = wait_job(tmp_path, "FailureTarget Failed", 3600)
    assert failed.returncode == 1 and seconds < 10
    assert "job/tickcast-smoke failed" in failed.stderr and "ended FAILED" in failed.stderr
    completed, _ = wait_job(tmp_path, "SuccessCriteriaMet Complete", 3600)
    assert completed.returncode == 0, completed.stderr
    running, seconds = wait_job(tmp_path, "", 2)
    assert running.returncode == 1 and "did not end within 2 s" in running.stderr
    assert seconds < 10


def test_make_kind_smoke_waits_bounded_for_its_job() -> None:
    recipe = subprocess.run(
        ["make", "-n", "kind-smoke", "SMOKE_SECONDS=900"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "wait --for=condition=complete" not in recipe
    assert "deploy/wait-job.sh tickcast tickcast-smoke 900" in recipe
    # The Job it waits for is the daily trigger, which waits for an active (bootstrap) run
    # before it submits its own: tests/pipelines/test_remote.py shows that.
    assert "create job --from=cronjob/tickcast-daily tickcast-smoke" in recipe


def _document(chart: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in chart if d["kind"] == kind and d["metadata"]["name"] == name)


def test_the_service_rollout_outlasts_the_first_model(helm: Path, tmp_path: Path) -> None:
    """The service is unready until the bootstrap run promotes a model, which may take as long
    as a daily run may: its rollout must not be declared failed before."""
    for wait in (12600, 20000):
        values = tmp_path / f"values-{wait}.yaml"
        values.write_text(yaml.safe_dump({"daily": {"waitSeconds": wait}}))
        chart = render(helm, [values])
        serving = _document(chart, "Deployment", "tickcast-serving")
        assert serving["spec"]["progressDeadlineSeconds"] > wait


def test_generated_passwords_survive_an_uninstall(helm: Path) -> None:
    """The PVCs outlive `helm uninstall`; so must the Secrets the generated passwords are read
    back from (tickcast.password looks them up), or a reinstall locks every client out."""
    chart = render(helm, [])
    helpers = (ROOT / "helm/tickcast/templates/_helpers.tpl").read_text()
    for secret in ("tickcast-postgres", "tickcast-storage"):
        assert f'"secret" "{secret}"' in helpers  # where the password is looked up
        [kept] = [
            d
            for d in chart
            if d["kind"] == "Secret"
            and d["metadata"]["name"] == secret
            and d["metadata"]["namespace"] == "tickcast"
        ]
        assert kept["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep", secret


def test_the_first_step_waits_for_the_stores_and_kfp_retries_it(helm: Path, tmp_path: Path) -> None:
    """On a first install the bootstrap run may start before PostgreSQL and MLflow: init database
    waits for them (kfp.stores_wait_seconds; tests/integration/test_stores.py) and KFP retries
    it, so the run does not die in the first seconds and leave no model until the next weekday."""
    values = tmp_path / "values.yaml"
    values.write_text("{}")
    for config in render(helm, [values]):
        if config["kind"] == "ConfigMap" and config["metadata"]["name"] == "tickcast-config":
            settings = yaml.safe_load(config["data"]["tickcast.yaml"])
            assert settings["kfp"]["stores_wait_seconds"] >= 120
    for name in ("daily", "retraining"):
        spec = next(yaml.safe_load_all((ROOT / f"pipelines/{name}.yaml").read_text()))
        task = spec["root"]["dag"]["tasks"]["init-database"]
        assert task["retryPolicy"]["maxRetryCount"] >= 1, name


# Multi-user Kubeflow's own policy on the KFP API (kubeflow/manifests v1.9-v1.11,
# common/networkpolicies/base/ml-pipeline.yaml), as a stand-in for the cluster's.
KUBEFLOW_ML_PIPELINE_POLICY = {
    "kind": "NetworkPolicy",
    "metadata": {"name": "ml-pipeline", "namespace": "kubeflow"},
    "spec": {
        "podSelector": {
            "matchExpressions": [{"key": "app", "operator": "In", "values": ["ml-pipeline"]}]
        },
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchExpressions": [
                                {
                                    "key": "app.kubernetes.io/part-of",
                                    "operator": "In",
                                    "values": ["kubeflow-profile"],
                                }
                            ]
                        }
                    },
                    {
                        "namespaceSelector": {
                            "matchExpressions": [
                                {
                                    "key": "kubernetes.io/metadata.name",
                                    "operator": "In",
                                    "values": ["istio-system"],
                                }
                            ]
                        }
                    },
                ]
            }
        ],
    },
}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        inside = labels.get(expression["key"]) in expression["values"]
        if inside != (expression["operator"] == "In"):
            return False
    return True


def _admitted(
    policies: list[dict[str, Any]],
    target: tuple[str, dict[str, str]],
    source: tuple[dict[str, str], dict[str, str]],
    port: int,
) -> bool:
    """NetworkPolicy ingress semantics: a pod some policy selects accepts what any of them
    allows (a `from` entry with both selectors needs both; no `ports`: every port)."""
    namespace, pod = target
    source_namespace, source_pod = source
    selecting = [
        p
        for p in policies
        if p["metadata"].get("namespace", "tickcast") == namespace
        and _selects(p["spec"]["podSelector"], pod)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress", []):
            ports = [entry["port"] for entry in rule.get("ports", [])]
            if ports and port not in ports:
                continue
            for peer in rule.get("from", []):
                namespaces = peer.get("namespaceSelector")
                pods = peer.get("podSelector")
                in_namespace = (
                    _selects(namespaces, source_namespace)
                    if namespaces is not None
                    else source_namespace["kubernetes.io/metadata.name"] == namespace
                )
                if in_namespace and (pods is None or _selects(pods, source_pod)):
                    return True
    return False


def test_multi_user_kfp_admits_the_release_namespace(helm: Path, tmp_path: Path) -> None:
    """Kubeflow's policy admits only profile namespaces to ml-pipeline: the upload Job, the
    bootstrap Job and the daily trigger in the release namespace were refused, and the first
    install failed on the documented multi-user recipe."""
    values = tmp_path / "multi-user.yaml"
    values.write_text(
        yaml.safe_dump({"kfp": {"multiUser": True, "runNamespace": "kubeflow-user-example-com"}})
    )
    chart = render(helm, [values])
    policies = [KUBEFLOW_ML_PIPELINE_POLICY] + [d for d in chart if d["kind"] == "NetworkPolicy"]
    api = ("kubeflow", {"app": "ml-pipeline", "application-crd-id": "kubeflow-pipelines"})
    release = {"kubernetes.io/metadata.name": "tickcast"}
    talkers = [
        d["spec"]["jobTemplate"]["spec"]["template"]
        if d["kind"] == "CronJob"
        else d["spec"]["template"]
        for d in chart
        if d["kind"] in ("CronJob", "Job")
    ]
    assert len(talkers) == 3  # upload, bootstrap, daily trigger
    for pod in talkers:
        labels = pod["metadata"]["labels"]
        assert not _admitted([KUBEFLOW_ML_PIPELINE_POLICY], api, (release, labels), 8888)
        assert _admitted(policies, api, (release, labels), 8888), labels
    # Nothing else is opened: another namespace's pods, or another port, stay refused.
    stranger = {"kubernetes.io/metadata.name": "elsewhere"}
    assert not _admitted(policies, api, (stranger, {"app.kubernetes.io/part-of": "tickcast"}), 8888)
    assert not _admitted(policies, api, (release, {"app": "other"}), 8888)
    # Installed into the profile namespace itself, Kubeflow's policy admits it: nothing added.
    inside = render(helm, [values], "--set", "kfp.runNamespace=tickcast")
    assert not [d for d in inside if d["metadata"]["name"] == "tickcast-to-ml-pipeline"]
