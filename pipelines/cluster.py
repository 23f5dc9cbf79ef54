"""How every step's pod is set up on Kubernetes (kfp-kubernetes). kfp.local ignores all of it, and
the steps then read their settings from the local config file and TICKCAST_* variables instead.

The names here are the contract with the Helm chart: it creates the ConfigMap and the Secrets.
"""

from __future__ import annotations

from typing import Any

from kfp import dsl, kubernetes

from tickcast.orchestration.dag import PodSize

# ConfigMap with `tickcast.yaml` (mounted as the config file) and `config-path` (where it is).
CONFIG_MAP = "tickcast-config"
CONFIG_DIRECTORY = "/etc/tickcast"
# Secret with the database URL (user and password in it).
DATABASE_SECRET = "tickcast-database"
# Secret with the S3-compatible artifact store's credentials (MinIO behind MLflow); optional.
STORAGE_SECRET = "tickcast-storage"
# Secret with the alert webhooks (key `webhooks`: alerts.webhooks as JSON); optional.
ALERTS_SECRET = "tickcast-alerts"
PART_OF = {"app.kubernetes.io/part-of": "tickcast"}
# Lets tune and train land on GPU nodes tainted for GPU work; harmless elsewhere.
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def on_cluster(task: dsl.PipelineTask, step: str, resources: PodSize) -> dsl.PipelineTask:
    """Name, label, size and configure one step: config from the ConfigMap, secrets as env."""
    task.set_display_name(step)
    task.set_cpu_request(resources.cpu).set_cpu_limit(resources.cpu_limit)
    task.set_memory_request(resources.memory).set_memory_limit(resources.memory_limit)
    for key, value in {**PART_OF, "app.kubernetes.io/component": step.replace(" ", "-")}.items():
        kubernetes.add_pod_label(task, key, value)
    kubernetes.use_config_map_as_volume(task, CONFIG_MAP, mount_path=CONFIG_DIRECTORY)
    kubernetes.use_config_map_as_env(task, CONFIG_MAP, {"config-path": "TICKCAST_CONFIG"})
    kubernetes.use_secret_as_env(task, DATABASE_SECRET, {"url": "TICKCAST_DATABASE__URL"})
    kubernetes.use_secret_as_env(
        task,
        STORAGE_SECRET,
        {
            "access-key": "AWS_ACCESS_KEY_ID",
            "secret-key": "AWS_SECRET_ACCESS_KEY",
            "endpoint": "MLFLOW_S3_ENDPOINT_URL",
        },
        optional=True,
    )
    # botocore (under s3fs, for the dataset artifacts) reads the endpoint from its own variable;
    # the region matters on AWS outside us-east-1.
    kubernetes.use_secret_as_env(
        task,
        STORAGE_SECRET,
        {"endpoint": "AWS_ENDPOINT_URL", "region": "AWS_DEFAULT_REGION"},
        optional=True,
    )
    kubernetes.use_secret_as_env(
        task, ALERTS_SECRET, {"webhooks": "TICKCAST_ALERTS__WEBHOOKS"}, optional=True
    )
    return task


def on_gpu(task: dsl.PipelineTask, gpus: Any, node_selector: Any) -> dsl.PipelineTask:
    """Request `gpus` NVIDIA GPUs ("0": none, the step runs on CPU) on nodes matching
    `node_selector` ({}: any node); both are pipeline parameters.

    `gpus` must be a STRING parameter: KFP 2.17's driver resolves the accelerator count
    placeholder with GetStringValue() (backend/src/v2/driver/resolve.go,
    resolvePodSpecInputRuntimeParameter), which is "" for a number, and then sets no limit at all.
    The node selector is resolved as a JSON struct (resolveK8sJsonParameter): a dict parameter.
    """
    task.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(gpus)
    kubernetes.add_node_selector_json(task, node_selector)
    kubernetes.add_toleration_json(task, GPU_TOLERATION)
    return task
