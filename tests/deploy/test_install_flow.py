"""What a first install, a reinstall and the smoke test do around the chart, offline: the smoke
waits are bounded and see a failure at once, the service's rollout outlasts the first model, the
generated passwords survive an uninstall. Stand-ins replace the cluster where one is needed."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.chart import ROOT, helm_template, render
from tests.deploy.fake_kube_api import fake_kube_api, kubeconfig

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


def _kfp_senders(chart: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pod templates of the chart's Jobs and CronJobs but the backup, gc and migration: every
    pod that talks to KFP."""
    return [
        d["spec"]["jobTemplate"]["spec"]["template"]
        if d["kind"] == "CronJob"
        else d["spec"]["template"]
        for d in chart
        if d["kind"] in ("CronJob", "Job")
        and d["metadata"]["name"] not in ("tickcast-backup", "tickcast-gc", "tickcast-migrate")
    ]


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
    talkers = _kfp_senders(chart)
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


def test_pull_secrets_reach_what_sends_the_pipelines(helm: Path, tmp_path: Path) -> None:
    """Every pod that sends pipelines to KFP hands image.pullSecrets on, and the packages it
    sends carry them to every step (tests/pipelines/test_remote.py)."""
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"image": {"pullSecrets": ["regcred", "mirror"]}}))
    chart = render(helm, [values])
    senders = _kfp_senders(chart)
    assert len(senders) == 3
    for pod in senders:
        [container] = pod["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["TICKCAST_IMAGE_PULL_SECRETS"] == "regcred,mirror"
        assert pod["spec"]["imagePullSecrets"] == [{"name": "regcred"}, {"name": "mirror"}]


# What else a kind node runs, requests summed (CPU millicores, memory MiB): kind's own pods
# (coredns x2, kube-apiserver, controller-manager, scheduler, etcd, kindnet), standalone KFP
# 2.17.0 (manifests/kustomize/env/platform-agnostic: ml-pipeline, persistence agent, UI,
# visualization server, MySQL, SeaweedFS, Argo's workflow controller, init containers), the
# KubeRay operator 1.4.2 (its limits, as requests), and per step pod KFP's driver and Argo's
# sidecars (an allowance).
KIND_SYSTEM = (950, 290)
KFP_STANDALONE = (704, 3174)
KUBERAY_OPERATOR = (100, 512)
STEP_OVERHEAD = (200, 256)
KIND_NODE = (4000, 8192 - 100)  # 4 CPUs, 8 GiB less the kubelet's eviction threshold


def _quantity(value: str, memory: bool) -> float:
    if memory:
        units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
        return (
            float(value[:-2]) * units[value[-2:]] if value[-2:] in units else float(value) / 2**20
        )
    return float(value[:-1]) if value.endswith("m") else float(value) * 1000


def _requests(pod: dict[str, Any]) -> tuple[float, float]:
    """What the scheduler reserves for a pod: its containers' requests, or its largest init
    container's when that is more."""

    def total(containers: list[dict[str, Any]], memory: bool, combine: Any) -> float:
        values = [
            _quantity(c.get("resources", {}).get("requests", {}).get(key, "0"), memory)
            for c in containers
            for key in (("memory",) if memory else ("cpu",))
        ]
        return float(combine(values)) if values else 0.0

    main, init = pod["containers"], pod.get("initContainers", [])
    return (
        max(total(main, False, sum), total(init, False, max)),
        max(total(main, True, sum), total(init, True, max)),
    )


def test_everything_fits_the_documented_kind_node(helm: Path) -> None:
    """A 4-CPU, 8-GiB kind node holds KFP, tickcast's services, the daily trigger and the
    largest pipeline step at once. The tune and train pods asked for 2 CPUs and 4 GiB: on such
    a node they stayed Pending for ever."""
    chart = render(helm, [])
    services = [
        d["spec"]["template"]["spec"] for d in chart if d["kind"] in ("Deployment", "StatefulSet")
    ]
    trigger = next(d for d in chart if d["metadata"]["name"] == "tickcast-daily")["spec"][
        "jobTemplate"
    ]["spec"]
    steps = []
    for name in ("daily", "retraining"):
        spec = next(yaml.safe_load_all((ROOT / f"pipelines/{name}.yaml").read_text()))
        for executor in spec["deploymentSpec"]["executors"].values():
            resources = executor["container"]["resources"]
            steps.append(
                (
                    _quantity(resources["resourceCpuRequest"], False),
                    _quantity(resources["resourceMemoryRequest"], True),
                )
            )
    # Steps run one after another (each after the one before it: tickcast.orchestration.dag).
    largest_step = (max(cpu for cpu, _ in steps), max(memory for _, memory in steps))
    parts = [
        KIND_SYSTEM,
        KFP_STANDALONE,
        KUBERAY_OPERATOR,
        *(_requests(pod) for pod in services),
        _requests(trigger["template"]["spec"]),
        largest_step,
        STEP_OVERHEAD,
    ]
    cpu, memory = sum(p[0] for p in parts), sum(p[1] for p in parts)
    assert cpu <= KIND_NODE[0] and memory <= KIND_NODE[1], (cpu, memory)


def _helm_against(helm: Path, tmp_path: Path, url: str) -> subprocess.CompletedProcess[str]:
    """`helm template --dry-run=server` against the stand-in API at `url`: the chart's lookups
    see that cluster."""
    config = kubeconfig(tmp_path / "kubeconfig.json", url)
    options = ("--dry-run=server", "--disable-openapi-validation", "--kubeconfig", str(config))
    # The API's discovery cache goes under the test's folder, not ~/.kube.
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("KUBECACHEDIR", str(tmp_path / "kube-cache"))
        return helm_template(helm, [], *options)


def test_an_install_without_kfp_says_what_is_missing(helm: Path, tmp_path: Path) -> None:
    """Without Kubeflow Pipelines the install failed on `namespaces "kubeflow" not found`, half
    done; it now stops before anything is created and names what is missing."""
    with fake_kube_api({"kube-system", "tickcast"}, set()) as url:
        missing = _helm_against(helm, tmp_path, url)
    assert missing.returncode != 0
    assert 'Kubeflow Pipelines not found: namespace "kubeflow"' in missing.stderr, missing.stderr
    with fake_kube_api({"kube-system", "tickcast", "kubeflow"}, set()) as url:
        no_api = _helm_against(helm, tmp_path, url)
    assert 'no Service ml-pipeline in namespace "kubeflow"' in no_api.stderr, no_api.stderr
    with fake_kube_api(
        {"kube-system", "tickcast", "kubeflow"}, {("kubeflow", "ml-pipeline")}
    ) as url:
        present = _helm_against(helm, tmp_path, url)
    assert present.returncode == 0, present.stderr
    assert "kind: Deployment" in present.stdout


def _notes(helm: Path, tmp_path: Path, *options: str) -> str:
    """The chart's NOTES as Helm renders them (helm template leaves NOTES out: a copy of the chart
    renders them into a ConfigMap)."""
    chart = tmp_path / "chart"
    shutil.copytree(ROOT / "helm/tickcast", chart)
    shutil.copyfile(chart / "templates/NOTES.txt", chart / "notes.txt")
    (chart / "templates/notes-as-data.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"
        'data:\n  notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}\n'
    )
    rendered = subprocess.run(
        [
            str(helm),
            "template",
            "tickcast",
            str(chart),
            "-n",
            "tickcast",
            *options,
            "--show-only",
            "templates/notes-as-data.yaml",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return str(yaml.safe_load(rendered)["data"]["notes"])


def test_notes_say_what_an_upgrade_did(helm: Path, tmp_path: Path) -> None:
    """The bootstrap Job runs on the first install only: an upgrade (a failed first install run
    again) said it had submitted a first run when it had not."""
    install = _notes(helm, tmp_path / "install")
    assert "The install submitted a first daily run" in install
    upgrade = _notes(helm, tmp_path / "upgrade", "--is-upgrade")
    assert "submitted a first daily run" not in upgrade
    assert "This upgrade submitted no run" in upgrade
    assert "create job --from=cronjob/tickcast-daily" in upgrade


def test_an_s3_bucket_outside_us_east_1_gets_its_region(helm: Path, tmp_path: Path) -> None:
    """boto3 (MLflow's artifacts) and s3fs (datasets) sign for the bucket's region: every pod
    that reads the store gets external.s3.region (us-east-1 when empty; MinIO ignores it)."""
    from tests.deploy.pod import pod_configuration

    values = tmp_path / "values.yaml"
    external = yaml.safe_load((ROOT / "tests/deploy/values-external.yaml").read_text())
    external["external"]["s3"]["region"] = "eu-west-1"
    values.write_text(yaml.safe_dump(external))
    chart = render(helm, [values])
    steps = pod_configuration(ROOT / "pipelines", chart, "tickcast")  # runNamespace ""
    assert steps.env["AWS_DEFAULT_REGION"] == "eu-west-1"
    from tests.deploy.release import secret_values
    from tests.deploy.services import container_env

    for deployment in ("tickcast-mlflow", "tickcast-serving"):
        container = next(
            d for d in chart if d["kind"] == "Deployment" and d["metadata"]["name"] == deployment
        )["spec"]["template"]["spec"]["containers"][0]
        env = container_env(container, secret_values(chart, "tickcast"))
        assert env["AWS_DEFAULT_REGION"] == "eu-west-1", deployment
    default = pod_configuration(ROOT / "pipelines", render(helm, []), "kubeflow")
    assert default.env["AWS_DEFAULT_REGION"] == "us-east-1"


def test_a_reinstall_reads_the_kept_passwords_back(helm: Path, tmp_path: Path) -> None:
    """After `helm uninstall` the kept Secrets (and the volumes) remain: the next install finds
    them through the chart's lookup and renders the same passwords, which the kept databases
    still accept (a new random password locked every client out)."""
    ownership = {  # what Helm put on them, which lets the next install adopt them
        "labels": {"app.kubernetes.io/managed-by": "Helm"},
        "annotations": {
            "meta.helm.sh/release-name": "tickcast",
            "meta.helm.sh/release-namespace": "tickcast",
            "helm.sh/resource-policy": "keep",
        },
    }
    kept = {
        ("tickcast", "tickcast-postgres"): {
            "data": {"password": base64.b64encode(b"kept-pg").decode()},
            **ownership,
        },
        ("tickcast", "tickcast-storage"): {
            "data": {"secret-key": base64.b64encode(b"kept-s3").decode()},
            **ownership,
        },
    }
    cluster = ({"kube-system", "tickcast", "kubeflow"}, {("kubeflow", "ml-pipeline")})
    with fake_kube_api(*cluster, kept) as url:
        again = _helm_against(helm, tmp_path, url)
    assert again.returncode == 0, again.stderr
    documents = [d for d in yaml.safe_load_all(again.stdout) if d]
    secrets = {
        (d["metadata"]["namespace"], d["metadata"]["name"]): {
            key: base64.b64decode(value).decode() for key, value in d["data"].items()
        }
        for d in documents
        if d["kind"] == "Secret"
    }
    assert secrets[("tickcast", "tickcast-postgres")]["password"] == "kept-pg"
    for namespace in ("tickcast", "kubeflow"):
        assert ":kept-pg@" in secrets[(namespace, "tickcast-database")]["url"]
        assert secrets[(namespace, "tickcast-storage")]["secret-key"] == "kept-s3"
