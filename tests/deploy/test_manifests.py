"""The chart and the plain manifests, offline: helm lint, schema validation against the target
Kubernetes version (kubernetes-validate, bundled schemas), and the policies every deployment
must keep. Helm and kubectl come from `make tools`."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import yaml

from tests.deploy.chart import ROOT, TOOLS, helm_template, render

KUBERNETES_VERSION = "1.34.0"
VALUE_SETS = {
    "default": [],
    "gpu-ray": [Path(__file__).with_name("values-gpu.yaml")],
    "external": [Path(__file__).with_name("values-external.yaml")],
}
OWN_IMAGES = {"runtime", "trainer", "serving", "mlflow"}
LONG_RUNNING = {"Deployment", "StatefulSet", "RayCluster"}


def kustomized(directory: Path, tmp_path: Path) -> list[dict[str, Any]]:
    copy = tmp_path / "k8s"
    shutil.copytree(ROOT / "k8s", copy)
    for secret in ("database", "storage"):
        shutil.copyfile(copy / f"config/{secret}.env.example", copy / f"config/{secret}.env")
    rendered = subprocess.run(
        [str(TOOLS / "kubectl"), "kustomize", str(copy / directory.relative_to(ROOT / "k8s"))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def pod_specs(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind, spec = doc["kind"], doc.get("spec", {})
    if kind == "Pod":
        yield spec
    elif kind in ("Deployment", "StatefulSet", "Job"):
        yield spec["template"]["spec"]
    elif kind == "CronJob":
        yield spec["jobTemplate"]["spec"]["template"]["spec"]
    elif kind == "RayCluster":
        yield spec["headGroupSpec"]["template"]["spec"]
        for group in spec["workerGroupSpecs"]:
            yield group["template"]["spec"]


def containers(doc: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for pod in pod_specs(doc):
        for container in pod.get("initContainers", []) + pod["containers"]:
            yield pod, container


def all_documents(helm: Path, tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    found = {name: render(helm, values) for name, values in VALUE_SETS.items()}
    found["k8s"] = kustomized(ROOT / "k8s", tmp_path)
    found["k8s-recurring-run"] = kustomized(ROOT / "k8s/recurring-run", tmp_path / "rr")
    return found


def test_helm_lint_strict(helm: Path) -> None:
    for name, values in VALUE_SETS.items():
        files = [arg for path in values for arg in ("-f", str(path))]
        linted = subprocess.run(
            [str(helm), "lint", "--strict", str(ROOT / "helm/tickcast"), *files],
            capture_output=True,
            text=True,
        )
        assert linted.returncode == 0, (name, linted.stdout + linted.stderr)


def test_manifests_validate_against_kubernetes(helm: Path, tmp_path: Path) -> None:
    for name, docs in all_documents(helm, tmp_path).items():
        assert docs, name
        for doc in docs:
            if doc["apiVersion"].startswith("ray.io/"):
                continue  # KubeRay's CRD has no bundled schema: the policy tests cover it
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_every_container_is_bounded_non_root_and_probed(helm: Path, tmp_path: Path) -> None:
    for name, docs in all_documents(helm, tmp_path).items():
        for doc in docs:
            where = f"{name}: {doc['kind']}/{doc['metadata']['name']}"
            for pod, container in containers(doc):
                resources = container.get("resources", {})
                for part in ("requests", "limits"):
                    assert {"cpu", "memory"} <= set(resources.get(part, {})), (
                        where,
                        container["name"],
                    )
                assert pod["securityContext"]["runAsNonRoot"] is True, where
                security = container["securityContext"]
                assert security["allowPrivilegeEscalation"] is False, where
                assert security["capabilities"]["drop"] == ["ALL"], where
                if doc["kind"] != "RayCluster":  # Ray writes beside its install
                    assert security["readOnlyRootFilesystem"] is True, (where, container["name"])
                is_init = container in pod.get("initContainers", [])
                if doc["kind"] in LONG_RUNNING and not is_init:
                    assert "readinessProbe" in container and "livenessProbe" in container, where


def test_images_come_from_the_configured_registry_and_tag(helm: Path) -> None:
    docs = render(
        helm,
        VALUE_SETS["gpu-ray"],
        "--set",
        "image.registry=localhost:5001/acme",
        "--set",
        "image.tag=9.9.9",
    )
    seen = set()
    for doc in docs:
        for _, container in containers(doc):
            image = container["image"]
            name = image.rsplit("/", 1)[-1].split(":")[0]
            if name in OWN_IMAGES:
                assert image == f"localhost:5001/acme/{name}:9.9.9"
                seen.add(name)
            else:  # third-party images are pinned to a version
                assert re.search(r":[\w.\-]+$", image) and not image.endswith(":latest"), image
    assert seen == OWN_IMAGES


def secret_material(doc: dict[str, Any]) -> list[str]:
    """The confidential parts of a Secret: passwords, secret keys, passwords inside URLs."""
    found = []
    raw = doc.get("stringData") or {
        k: base64.b64decode(v).decode() for k, v in (doc.get("data") or {}).items()
    }
    for key, value in raw.items():
        if key in ("password", "secret-key"):
            found.append(value)
        elif "://" in value:
            password = urlsplit(value).password
            if password:
                found.append(password)
    return found


def test_no_secret_value_lands_in_a_configmap(helm: Path, tmp_path: Path) -> None:
    for name, docs in all_documents(helm, tmp_path).items():
        secrets = [s for doc in docs if doc["kind"] == "Secret" for s in secret_material(doc)]
        if name != "k8s-recurring-run":
            assert secrets, name
        maps = "\n".join(
            str(value)
            for doc in docs
            if doc["kind"] == "ConfigMap"
            for value in doc["data"].values()
        )
        assert not [secret for secret in secrets if secret in maps], name


def test_the_daily_cronjob_is_safe_to_schedule(helm: Path, tmp_path: Path) -> None:
    documents = all_documents(helm, tmp_path)
    jobs = [
        d
        for name in ("default", "k8s")
        for d in documents[name]
        if d["kind"] == "CronJob" and d["metadata"]["name"] == "tickcast-daily"
    ]
    assert len(jobs) == 2
    for job in jobs:
        spec = job["spec"]
        assert spec["timeZone"] == "America/New_York" and spec["concurrencyPolicy"] == "Forbid"
        assert spec["schedule"].split()[-1] == "1-5"  # weekdays
        assert (
            spec["startingDeadlineSeconds"] > 0
            and spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] > 0
        )
        # The trigger waits for its run: a retry of a failed Job would run the day again.
        assert spec["jobTemplate"]["spec"]["backoffLimit"] == 0
        command = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        assert (command.get("command") or command["args"])[:4] == [
            "tickcast",
            "run",
            "daily",
            "--kfp",
        ]


def test_pipeline_namespace_gets_the_config_and_secrets(helm: Path) -> None:
    docs = render(helm, [])
    placed = {(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace")) for d in docs}
    for kind, name in [
        ("ConfigMap", "tickcast-config"),
        ("Secret", "tickcast-database"),
        ("Secret", "tickcast-storage"),
    ]:
        assert {(kind, name, "tickcast"), (kind, name, "kubeflow")} <= placed
    config = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "tickcast-config"
    )
    settings = yaml.safe_load(config["data"]["tickcast.yaml"])
    assert (
        settings["mlflow"]["tracking_uri"]
        == "http://tickcast-mlflow.tickcast.svc.cluster.local:5000"
    )
    assert settings["artifacts"]["root"] == "s3://tickcast/artifacts"


def test_the_recurring_run_job_can_be_applied_again(helm: Path, tmp_path: Path) -> None:
    """A Job's pod template is immutable: the registering Job must be gone soon after it ran, so
    that the next `kubectl apply -k k8s/recurring-run/` registers the schedule again."""
    [job] = [d for d in all_documents(helm, tmp_path)["k8s-recurring-run"] if d["kind"] == "Job"]
    assert 0 < job["spec"]["ttlSecondsAfterFinished"] <= 600
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][:3] == [
        "tickcast",
        "schedule",
        "daily",
    ]


def test_plain_manifests_send_the_images_they_run(helm: Path, tmp_path: Path) -> None:
    """The CronJob and the recurring run's Job send pipelines to KFP: each names, in
    TICKCAST_IMAGE_REGISTRY/TAG, the registry and tag of its own image, so the steps run the
    images the user set (the recurring run named none and always ran tickcast/*:0.1.0)."""
    documents = all_documents(helm, tmp_path)
    senders = [
        container
        for name in ("k8s", "k8s-recurring-run")
        for doc in documents[name]
        for _, container in containers(doc)
        if container.get("command", [])[:2] in (["tickcast", "run"], ["tickcast", "schedule"])
    ]
    assert len(senders) == 2, [c["command"] for c in senders]
    for container in senders:
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        assert {"TICKCAST_IMAGE_REGISTRY", "TICKCAST_IMAGE_TAG"} <= set(env), container["command"]
        expected = f"{env['TICKCAST_IMAGE_REGISTRY']}/runtime:{env['TICKCAST_IMAGE_TAG']}"
        assert container["image"] == expected, container["command"]


def test_pipelines_sent_to_kfp_name_the_charts_images(helm: Path, tmp_path: Path) -> None:
    """The upload Job and the daily trigger rewrite the compiled pipelines' images to the
    registry and tag their own image comes from (tickcast.orchestration.images)."""
    rendered = all_documents(helm, tmp_path)
    for name in VALUE_SETS:
        documents = rendered[name]
        senders = [
            d["spec"]["jobTemplate"]["spec"]["template"]
            if d["kind"] == "CronJob"
            else d["spec"]["template"]
            for d in documents
            if d["kind"] in ("CronJob", "Job")
            and "tickcast" in str(d["spec"])
            and d["metadata"]["name"] in ("tickcast-daily", "tickcast-upload-pipelines")
        ]
        assert len(senders) == 2, name
        for pod in senders:
            [container] = pod["spec"]["containers"]
            env = {e["name"]: e.get("value") for e in container["env"]}
            expected = f"{env['TICKCAST_IMAGE_REGISTRY']}/runtime:{env['TICKCAST_IMAGE_TAG']}"
            assert container["image"] == expected, name


def test_the_ray_head_can_run_its_autoscaler(helm: Path, tmp_path: Path) -> None:
    """KubeRay's in-tree autoscaler is a sidecar of the head using the head pod's service
    account token; workers need none."""
    [cluster] = [d for d in all_documents(helm, tmp_path)["gpu-ray"] if d["kind"] == "RayCluster"]
    assert cluster["spec"]["enableInTreeAutoscaling"] is True
    head = cluster["spec"]["headGroupSpec"]["template"]["spec"]
    assert head.get("automountServiceAccountToken", True) is True
    for group in cluster["spec"]["workerGroupSpecs"]:
        assert group["template"]["spec"]["automountServiceAccountToken"] is False


def test_a_first_install_completes_and_bootstraps_a_model(helm: Path, tmp_path: Path) -> None:
    """Serving is ready only once a model exists, and a model needs a pipeline run, which needs
    the uploaded pipelines: so the install waits for its hooks only (Helm 4's hookOnly), the
    upload hook runs first and a post-install hook submits the first daily run unwaited."""
    hooks = {
        d["metadata"]["name"]: d
        for d in all_documents(helm, tmp_path)["default"]
        if "helm.sh/hook" in d["metadata"].get("annotations", {}) and d["kind"] == "Job"
    }
    upload, bootstrap = hooks["tickcast-upload-pipelines"], hooks["tickcast-bootstrap"]
    weights = [
        int(j["metadata"]["annotations"]["helm.sh/hook-weight"]) for j in (upload, bootstrap)
    ]
    assert weights[1] > weights[0]  # the pipelines are uploaded before a run is submitted
    assert bootstrap["metadata"]["annotations"]["helm.sh/hook"] == "post-install"  # not upgrades
    args = bootstrap["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:4] == ["tickcast", "run", "daily", "--kfp"] and "--wait" not in args
    assert bootstrap["spec"]["backoffLimit"] == 0
    # An upgrade migrates the schema before its new pods start, in the new image; an install
    # leaves it to the first step (PostgreSQL is not up before the release's own pods).
    migrate = hooks["tickcast-migrate"]
    annotations = migrate["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-upgrade"
    assert int(annotations["helm.sh/hook-weight"]) < min(weights)
    [container] = migrate["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["tickcast", "db", "migrate"]
    assert container["image"].endswith("/runtime:0.1.0")
    env = {e["name"]: e for e in container["env"]}
    assert env["TICKCAST_DATABASE__URL"]["valueFrom"]["secretKeyRef"]["name"] == "tickcast-database"
    dry = subprocess.run(["make", "-n", "kind-install"], cwd=ROOT, capture_output=True, text=True)
    lines = dry.stdout.replace("\\\n", " ").splitlines()
    [install] = [line for line in lines if "helm upgrade --install" in line]
    assert "--wait=hookOnly" in install and " --wait " not in f"{install} "


def test_with_a_ray_cluster_the_tune_pod_reserves_no_gpus(helm: Path, tmp_path: Path) -> None:
    """The search's trials run on the RayCluster's GPU workers; the tune pod is their client."""
    rendered = all_documents(helm, tmp_path)
    for name, expected in (("gpu-ray", ["--search-gpus", "0"]), ("default", [])):
        [cron] = [d for d in rendered[name] if d["metadata"]["name"] == "tickcast-daily"]
        args = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
        found = args[args.index("--search-gpus") :][:2] if "--search-gpus" in args else []
        assert found == expected, name


def test_the_role_grants_every_kfp_call_the_readme_lists(helm: Path) -> None:
    """The README's RBAC table against the rendered Role, standalone and multi-user (where the
    Role and its binding are also in the profile namespace, and the config names it)."""
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| `[^`]+`[^|]*\| [^|]+ \| `(\w+)` \| ([\w, ]+) \|$", readme, re.M)
    assert len(rows) >= 4
    multi_user = ["--set", "kfp.multiUser=true", "--set", "kfp.runNamespace=team-a"]
    for extra, namespaces in (([], {"tickcast"}), (multi_user, {"tickcast", "team-a"})):
        documents = render(helm, [], *extra)
        roles = {d["metadata"]["namespace"]: d for d in documents if d["kind"] == "Role"}
        bindings = {d["metadata"]["namespace"]: d for d in documents if d["kind"] == "RoleBinding"}
        assert set(roles) == set(bindings) == namespaces
        for namespace, role in roles.items():
            granted = {
                (resource, verb)
                for rule in role["rules"]
                if rule["apiGroups"] == ["pipelines.kubeflow.org"]
                for resource in rule["resources"]
                for verb in rule["verbs"]
            }
            for resource, verbs in rows:
                for verb in verbs.split(", "):
                    assert (resource, verb) in granted, (namespace, resource, verb)
            subject = bindings[namespace]["subjects"][0]
            assert (subject["name"], subject["namespace"]) == ("tickcast-pipelines", "tickcast")
    configs = [d for d in render(helm, [], *multi_user) if d["kind"] == "ConfigMap"]
    for config in (c for c in configs if c["metadata"]["name"] == "tickcast-config"):
        settings = yaml.safe_load(config["data"]["tickcast.yaml"])
        assert settings["kfp"]["user_namespace"] == "team-a"


def test_plain_manifests_serve_pipeline_pods_in_kubeflow(helm: Path, tmp_path: Path) -> None:
    """Standalone KFP runs the steps in kubeflow: the ConfigMap and both Secrets are there too,
    the MLflow URL resolves from there, and the storage Secret has the keys the steps read."""
    from pipelines.cluster import CONFIG_MAP, DATABASE_SECRET, STORAGE_SECRET

    documents = all_documents(helm, tmp_path)["k8s"]
    placed = {
        (d["kind"], d["metadata"]["name"], d["metadata"]["namespace"])
        for d in documents
        if d["kind"] in ("ConfigMap", "Secret")
    }
    for namespace in ("tickcast", "kubeflow"):
        assert ("ConfigMap", CONFIG_MAP, namespace) in placed
        assert ("Secret", DATABASE_SECRET, namespace) in placed
        assert ("Secret", STORAGE_SECRET, namespace) in placed
    storage = next(d for d in documents if d["metadata"]["name"] == STORAGE_SECRET)
    assert set(storage["data"]) == {"access-key", "secret-key", "endpoint", "region"}
    config = next(d for d in documents if d["kind"] == "ConfigMap")
    settings = yaml.safe_load(config["data"]["tickcast.yaml"])
    assert ".svc.cluster.local" in settings["mlflow"]["tracking_uri"]
    assert settings["artifacts"]["root"].startswith("s3://")


def test_the_kind_cluster_leaves_the_readme_port_forwards_free() -> None:
    kind = yaml.safe_load((ROOT / "deploy/kind.yaml").read_text())
    host_ports = {
        mapping["hostPort"]
        for node in kind["nodes"]
        for mapping in node.get("extraPortMappings", [])
    }
    readme = (ROOT / "README.md").read_text()
    forwarded = {int(port) for port in re.findall(r"port-forward \S+ (\d+):\d+", readme)}
    assert forwarded >= {3000, 8080}
    assert not host_ports & forwarded


def test_the_service_is_locked_with_a_token_from_a_secret_when_asked(helm: Path) -> None:
    def serving_env(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        [deployment] = [
            d
            for d in docs
            if d["kind"] == "Deployment" and d["metadata"]["name"] == "tickcast-serving"
        ]
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        return {item["name"]: item for item in container["env"]}

    assert "TICKCAST_SERVING__AUTH__TOKENS" not in serving_env(render(helm, []))
    generated = render(helm, VALUE_SETS["gpu-ray"])
    env = serving_env(generated)
    assert env["TICKCAST_SERVING__AUTH__TOKENS"]["valueFrom"]["secretKeyRef"] == {
        "name": "tickcast-serving-auth",
        "key": "tokens",
    }
    assert env["TICKCAST_SERVING__AUTH__METRICS_OPEN"]["value"] == "true"
    [secret] = [d for d in generated if d["metadata"]["name"] == "tickcast-serving-auth"]
    token = base64.b64decode(secret["data"]["tokens"]).decode()
    assert len(token) >= 16 and token.isalnum()  # what serving.auth accepts
    assert (
        serving_env(render(helm, VALUE_SETS["external"]))["TICKCAST_SERVING__AUTH__METRICS_OPEN"][
            "value"
        ]
        == "false"
    )
    existing = render(
        helm, [], "--set", "serving.auth.enabled=true,serving.auth.existingSecret=acme"
    )
    ref = serving_env(existing)["TICKCAST_SERVING__AUTH__TOKENS"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "acme", "key": "tokens"}
    assert not [d for d in existing if d["metadata"]["name"] == "tickcast-serving-auth"]


def test_the_backup_job_dumps_with_the_servers_own_client_into_the_artifact_store(
    helm: Path,
) -> None:
    def backup_pod(docs: list[dict[str, Any]]) -> dict[str, Any]:
        [job] = [d for d in docs if d["metadata"]["name"] == "tickcast-backup"]
        assert job["spec"]["concurrencyPolicy"] == "Forbid"
        pod: dict[str, Any] = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        return pod

    pod = backup_pod(render(helm, []))
    [dump], [write] = pod["initContainers"], pod["containers"]
    values = yaml.safe_load((ROOT / "helm/tickcast/values.yaml").read_text())
    assert dump["image"] == values["postgres"]["image"]  # pg_dump of the server's major version
    assert "/backup/tickcast.dump" in dump["args"][0] and "/backup/mlflow.dump" in dump["args"][0]
    assert write["args"] == [
        "tickcast",
        "db",
        "backup",
        "s3://tickcast/backups",
        "--keep",
        "14",
        "--dumps",
        "/backup",
    ]
    secrets = {e["valueFrom"]["secretKeyRef"]["key"] for e in dump["env"]}
    assert secrets == {"url", "mlflow-url"}
    external = backup_pod(render(helm, VALUE_SETS["external"]))
    assert external["containers"][0]["args"][3] == "s3://acme-tickcast/backups"
    assert not [
        d
        for d in render(helm, [], "--set", "backup.enabled=false")
        if "backup" in d["metadata"]["name"]
    ]


def test_alerts_reach_the_steps_and_the_trigger_and_prometheus_rules_read_real_gauges(
    helm: Path,
) -> None:
    docs = render(helm, VALUE_SETS["gpu-ray"])
    secrets = [d for d in docs if d["metadata"]["name"] == "tickcast-alerts"]
    assert {s["metadata"]["namespace"] for s in secrets} == {"tickcast", "kubeflow"}
    hooks = json.loads(base64.b64decode(secrets[0]["data"]["webhooks"]))
    assert hooks == [
        {"url": "https://hooks.slack.com/services/T000/B000/secretpart", "format": "slack"}
    ]
    [trigger] = [d for d in docs if d["metadata"]["name"] == "tickcast-daily"]
    env = trigger["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
    [alerts] = [e for e in env if e["name"] == "TICKCAST_ALERTS__WEBHOOKS"]
    assert alerts["valueFrom"]["secretKeyRef"] == {
        "name": "tickcast-alerts",
        "key": "webhooks",
        "optional": True,
    }
    for pipeline in ("daily", "retraining"):  # every step reads the same Secret, if it exists
        compiled = (ROOT / f"pipelines/{pipeline}.yaml").read_text()
        assert compiled.count("secretName: tickcast-alerts") == compiled.count(
            "secretName: tickcast-database"
        )
    assert not [d for d in render(helm, []) if d["metadata"]["name"] == "tickcast-alerts"]

    rule_on = ["--set", "alerts.prometheusRule.enabled=true"]
    refused = helm_template(helm, [], *rule_on)
    assert refused.returncode != 0 and "Prometheus operator" in refused.stderr
    docs = render(helm, [], *rule_on, "--api-versions", "monitoring.coreos.com/v1")
    [rule] = [d for d in docs if d["kind"] == "PrometheusRule"]
    exported = set(
        re.findall(r'name="(tickcast_\w+)"', (ROOT / "src/tickcast/serving/metrics.py").read_text())
    )
    rules = rule["spec"]["groups"][0]["rules"]
    assert len(rules) == 5
    for item in rules:
        assert (
            item["labels"]["severity"] in ("warning", "critical") and item["annotations"]["summary"]
        )
        used = set(re.findall(r"tickcast_\w+", item["expr"]))
        assert used and used <= exported, (item["alert"], used - exported)


def test_retention_runs_weekly_one_at_a_time_with_the_stores_it_cleans(helm: Path) -> None:
    [job] = [d for d in render(helm, []) if d["metadata"]["name"] == "tickcast-gc"]
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    assert job["spec"]["schedule"].split()[-1] == "0"  # Sundays
    [container] = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["tickcast", "gc"]
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
        for e in container["env"]
        if "valueFrom" in e
    }
    assert refs["TICKCAST_DATABASE__URL"] == "tickcast-database"
    assert refs["AWS_SECRET_ACCESS_KEY"] == "tickcast-storage"
    assert not [
        d
        for d in render(helm, [], "--set", "gc.enabled=false")
        if d["metadata"]["name"] == "tickcast-gc"
    ]
