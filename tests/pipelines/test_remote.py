"""The KFP backend over real HTTP: against the v2beta1 stand-in, a closed port, and bad crons."""

from __future__ import annotations

import re
import shutil
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import yaml
from pipelines.compile import ROOT

from tests.integration.cli import run, tickcast_env
from tests.pipelines.fake_kfp import serve_fake_kfp
from tickcast.config import Settings
from tickcast.orchestration import images
from tickcast.orchestration.cron import kfp_cron
from tickcast.orchestration.dag import POD_SIZES
from tickcast.orchestration.packages import OrchestrationError, PipelineArguments, cluster_package
from tickcast.orchestration.remote import schedule_daily, submit_run, upload_pipelines


@pytest.fixture
def packaged(tmp_path: Path) -> Settings:
    """Settings reading a copy of the compiled pipelines (so a test may change one)."""
    directory = tmp_path / "pipelines"
    directory.mkdir()
    for name in ("daily", "retraining"):
        shutil.copyfile(ROOT / f"pipelines/{name}.yaml", directory / f"{name}.yaml")
    return Settings(kfp={"pipelines_dir": str(directory), "experiment": "tickcast-test"})


def test_upload_creates_versions_only_for_changed_packages(packaged: Settings) -> None:
    with serve_fake_kfp() as api:
        first = upload_pipelines(packaged, api.url)
        assert [p.name for p in first] == ["tickcast-daily", "tickcast-retraining"]
        assert all(p.version_id for p in first)
        assert sorted(api.pipelines.values()) == ["tickcast-daily", "tickcast-retraining"]

        assert all(p.version_id is None for p in upload_pipelines(packaged, api.url))

        daily = Path(packaged.kfp.pipelines_dir) / "daily.yaml"
        daily.write_text(daily.read_text().replace("Daily forecasts", "Daily forecasts, edited"))
        third = upload_pipelines(packaged, api.url)
        assert third[0].version_id and third[1].version_id is None
        versions = api.versions[third[0].pipeline_id]
        assert [v["display_name"] for v in versions] == [
            first[0].version_name,
            third[0].version_name,
        ]
        assert "Daily forecasts, edited" in versions[-1]["package"]


def test_what_kfp_receives_names_the_configured_registry(
    packaged: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The committed YAML says tickcast/<image>:<version>; a chart installed from another
    registry sets TICKCAST_IMAGE_REGISTRY/TAG, and uploads and runs carry those images."""
    monkeypatch.setattr(images, "REGISTRY", "localhost:5001/team")
    monkeypatch.setattr(images, "TAG", "dev-3")
    with serve_fake_kfp() as api:
        uploaded = upload_pipelines(packaged, api.url)
        submit_run(packaged, "retraining", PipelineArguments(trials=0), api.url)
    packages = [v["package"] for p in uploaded for v in api.versions[p.pipeline_id]]
    packages.append(yaml.safe_dump(api.runs[0]["pipeline_spec"]))
    for package in packages:
        found = set(re.findall(r"image: (\S+)", package))
        assert found == {"localhost:5001/team/runtime:dev-3", "localhost:5001/team/trainer:dev-3"}


def test_every_step_pulls_with_the_configured_secrets(
    packaged: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """image.pullSecrets reach every pipeline pod, not only the chart's own: without them a
    private registry left each step in ImagePullBackOff."""
    monkeypatch.setattr(images, "PULL_SECRETS", ("regcred", "mirror"))
    with serve_fake_kfp() as api:
        uploaded = upload_pipelines(packaged, api.url)
        submit_run(packaged, "daily", PipelineArguments(trials=0), api.url)
    packages = [
        list(yaml.safe_load_all(v["package"]))
        for p in uploaded
        for v in api.versions[p.pipeline_id]
    ]
    [sent] = api.runs
    packages.append(
        [sent["pipeline_spec"]["pipeline_spec"], sent["pipeline_spec"]["platform_spec"]]
    )
    for spec, platform in packages:
        executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
        assert set(executors) == set(spec["deploymentSpec"]["executors"])
        for name, executor in executors.items():
            secrets = [entry["secretName"] for entry in executor["imagePullSecret"]]
            assert secrets == ["regcred", "mirror"], name
            assert "secretAsEnv" in executor, name  # the step's own settings are kept


def test_on_a_ray_cluster_the_tune_pod_is_a_light_client(
    packaged: Settings, tmp_path: Path
) -> None:
    """With the search on a RayCluster, the tune pod only drives it: it asks for a standard
    pod's resources and no GPU node, while train candidate keeps the heavy pod and the GPU
    node selector. Without a RayCluster the tune pod runs the trials itself and stays heavy."""
    on_ray = packaged.model_copy(
        update={"tuning": packaged.tuning.model_copy(update={"ray_address": "ray://head:10001"})}
    )
    for settings, tune_size in ((on_ray, "standard"), (packaged, "heavy")):
        folder = tmp_path / tune_size
        folder.mkdir()
        spec, platform = yaml.safe_load_all(cluster_package(settings, "daily", folder).read_text())
        executors = spec["deploymentSpec"]["executors"]
        placed = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
        for executor, size in (("exec-tune", tune_size), ("exec-train-candidate", "heavy")):
            resources = executors[executor]["container"]["resources"]
            expected = POD_SIZES[size]
            assert resources["resourceCpuRequest"] == expected.cpu, (executor, size)
            assert resources["resourceMemoryRequest"] == expected.memory, (executor, size)
            assert ("nodeSelector" in placed[executor]) == (size == "heavy"), (executor, size)
        if tune_size == "standard":  # the numbers KFP's driver reads agree with the strings
            standard = executors["exec-tune"]["container"]["resources"]
            assert (standard["cpuRequest"], standard["memoryRequest"]) == (0.5, 0.805306368)


def test_multi_user_kfp_gets_the_user_namespace(packaged: Settings) -> None:
    """Multi-user Kubeflow refuses experiments without a namespace and shared pipelines from a
    tenant: with kfp.user_namespace set, pipelines, experiments and runs belong to it."""
    arguments = PipelineArguments(trials=0)
    with serve_fake_kfp() as api:
        api.multi_user = True
        with pytest.raises(OrchestrationError, match=r"not authorized .* namespace kubeflow"):
            upload_pipelines(packaged, api.url)
        with pytest.raises(OrchestrationError, match="namespace cannot be empty"):
            submit_run(packaged, "daily", arguments, api.url)

        tenant = packaged.with_overrides({"kfp": {"user_namespace": "team-a"}})
        uploaded = upload_pipelines(tenant, api.url)
        submit_run(tenant, "daily", arguments, api.url)
        schedule_daily(tenant, "30 22 * * 1-5", arguments, api.url)
    assert {api.namespaces[p.pipeline_id] for p in uploaded} == {"team-a"}
    assert [api.namespaces[e] for e in api.experiments] == ["team-a"]
    assert len(api.runs) == 1 and len(api.recurring_runs) == 1


def test_schedule_daily_uploads_and_replaces_the_recurring_run(packaged: Settings) -> None:
    arguments = PipelineArguments(trials=4, gpus=1, gpu_node_selector={"gpu": "a100"})
    with serve_fake_kfp() as api:
        first = schedule_daily(packaged, "30 22 * * 1-5", arguments, api.url)
        assert first.cron == "0 30 22 * * 1-5" and first.replaced == 0
        [stored] = api.recurring_runs.values()
        assert stored["trigger"]["cron_schedule"]["cron"] == "0 30 22 * * 1-5"
        assert int(stored["max_concurrency"]) == 1 and stored["no_catchup"] is True
        assert stored["runtime_config"]["parameters"] == {
            "as_of": "",
            "trials": 4,
            "gpus": "1",
            "gpu_node_selector": {"gpu": "a100"},
            "search_gpus": "1",  # as many as --gpus unless said otherwise
        }
        [pipeline_id] = [i for i, n in api.pipelines.items() if n == "tickcast-daily"]
        reference = stored["pipeline_version_reference"]
        assert reference["pipeline_id"] == pipeline_id
        assert reference["pipeline_version_id"] == api.versions[pipeline_id][0]["id"]
        assert list(api.experiments.values()) == ["tickcast-test"]

        # The new schedule cannot be created: the old one keeps running (it used to be deleted
        # first, leaving no schedule at all).
        api.fail_path, api.fail_method = "/apis/v2beta1/recurringruns", "POST"
        with pytest.raises(OrchestrationError, match="refused the request: 500"):
            schedule_daily(packaged, "0 0 23 * * MON-FRI", arguments, api.url)
        assert list(api.recurring_runs) == [first.recurring_run_id] and api.deleted == []
        api.fail_path = api.fail_method = None

        again = schedule_daily(packaged, "0 0 23 * * MON-FRI", arguments, api.url)
        assert again.replaced == 1 and api.deleted == [first.recurring_run_id]
        assert list(api.recurring_runs) == [again.recurring_run_id]
        assert len(api.versions[pipeline_id]) == 1  # the same package: no new version


def test_submit_sends_the_compiled_pipeline_with_its_arguments(packaged: Settings) -> None:
    with serve_fake_kfp() as api:
        submitted = submit_run(
            packaged, "retraining", PipelineArguments(as_of=date(2017, 6, 30), trials=2), api.url
        )
        [sent] = api.runs
    assert submitted.url == f"{api.url}/#/runs/details/{submitted.run_id}"
    spec, platform = sent["pipeline_spec"]["pipeline_spec"], sent["pipeline_spec"]["platform_spec"]
    assert spec["pipelineInfo"]["name"] == "tickcast-retraining"
    assert sent["display_name"].startswith("tickcast-retraining 2017-06-30 ")
    assert sent["runtime_config"]["parameters"]["as_of"] == "2017-06-30"
    assert sent["experiment_id"] in api.experiments
    committed = list(yaml.safe_load_all((ROOT / "pipelines/retraining.yaml").read_text()))
    assert spec["deploymentSpec"] == committed[0]["deploymentSpec"]
    assert platform == committed[1]  # the Kubernetes settings travel with the run


def test_waiting_for_a_run_reports_how_it_ended(packaged: Settings) -> None:
    arguments = PipelineArguments(trials=0)
    with serve_fake_kfp() as api:
        done = submit_run(packaged, "daily", arguments, api.url, wait_seconds=30)
        assert done.state == "SUCCEEDED"
        api.run_state = "FAILED"
        with pytest.raises(OrchestrationError, match=r"run .* ended FAILED: http://127"):
            submit_run(packaged, "daily", arguments, api.url, wait_seconds=30)
        # A cancelled run ends the wait at once (kfp's own wait knew no CANCELED and waited out
        # its timeout, holding the daily trigger Job for hours).
        api.run_state = "CANCELED"
        started = time.monotonic()
        with pytest.raises(OrchestrationError, match=r"run .* ended CANCELED"):
            submit_run(packaged, "daily", arguments, api.url, wait_seconds=600)
        assert time.monotonic() - started < 5
        api.run_state = "RUNNING"  # the runs before have ended: only the new one runs on
        api.states.update({run["run_id"]: "CANCELED" for run in api.runs})
        with pytest.raises(OrchestrationError, match=r"did not end within 1 s"):
            submit_run(packaged, "daily", arguments, api.url, wait_seconds=1)


def test_a_waited_run_starts_only_once_the_active_one_ended(packaged: Settings) -> None:
    """The install's bootstrap run is submitted without waiting; a daily trigger (or the smoke
    test's) started while it runs waits for it instead of retraining beside it."""
    arguments = PipelineArguments(trials=0)
    with serve_fake_kfp() as api:
        bootstrap = submit_run(packaged, "daily", arguments, api.url)
        api.states[bootstrap.run_id] = "RUNNING"
        started = time.monotonic()
        with pytest.raises(OrchestrationError, match=rf"run {bootstrap.run_id} .* still active"):
            submit_run(packaged, "daily", arguments, api.url, wait_seconds=2)
        assert time.monotonic() - started < 10
        assert len(api.runs) == 1  # nothing submitted beside it

        ended = threading.Timer(1.0, lambda: api.states.update({bootstrap.run_id: "FAILED"}))
        ended.start()
        following = submit_run(packaged, "daily", arguments, api.url, wait_seconds=30)
        ended.join()
        assert following.state == "SUCCEEDED" and len(api.runs) == 2


def test_refusals_and_unreachable_hosts_are_one_line_errors(packaged: Settings) -> None:
    with serve_fake_kfp() as api:
        api.fail_path = "/apis/v2beta1/pipelines"
        with pytest.raises(
            OrchestrationError, match=r"refused the request: 500 .*database is locked"
        ):
            upload_pipelines(packaged, api.url)
    closed = api.url  # the server is gone: nothing listens there any more
    with pytest.raises(OrchestrationError, match=f"Kubeflow Pipelines at {closed} is unreachable"):
        upload_pipelines(packaged, closed)
    with pytest.raises(OrchestrationError, match="pass --host URL"):
        upload_pipelines(packaged)


def test_cli_reports_kfp_errors_with_exit_code_10(tmp_path: Path) -> None:
    env = tickcast_env()
    unreachable = run("run", "daily", "--kfp", "--host", "http://127.0.0.1:9", env=env, cwd=ROOT)
    assert unreachable.returncode == 10
    assert "error (orchestration): Kubeflow Pipelines at http://127.0.0.1:9 is unreachable" in (
        unreachable.stderr
    )
    assert "Retrying" not in unreachable.stderr  # one line, not urllib3's chatter
    neither = run("run", "daily", env=env, cwd=ROOT)
    assert neither.returncode == 10 and "choose where to run: --local or --kfp" in neither.stderr
    selector = run("run", "daily", "--kfp", "--gpu-node-selector", "{gpu", env=env, cwd=ROOT)
    assert selector.returncode == 2 and "Invalid value for --gpu-node-selector" in selector.stderr
    missing = run("run", "daily", "--local", env=env, cwd=tmp_path)
    assert missing.returncode == 10
    assert f"compiled pipeline {tmp_path}/pipelines/daily.yaml not found" in missing.stderr


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("30 22 * * 1-5", "0 30 22 * * 1-5"),
        ("0 0 9 ? * MON-FRI", "0 0 9 ? * MON-FRI"),
        ("*/15 * * * *", "0 */15 * * * *"),
        ("0 0 1 1,4,7,10 *", "0 0 0 1 1,4,7,10 *"),
    ],
)
def test_cron_becomes_kfp_six_fields(expression: str, expected: str) -> None:
    assert kfp_cron(expression) == expected


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 25 * * *", "'25' in the hour field is not in 0-23"),
        ("* * *", "expected 5 fields"),
        ("0 0 * * 7-8", "'7' in the day of week field is not in 0-6"),
        ("0 0 * FOO *", "'FOO' in the month field"),
        ("*/0 * * * *", "bad step '0' in the minute field"),
    ],
)
def test_bad_cron_names_the_field(expression: str, problem: str) -> None:
    with pytest.raises(OrchestrationError, match=problem):
        kfp_cron(expression)
