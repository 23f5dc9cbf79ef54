"""A pipeline step's pod on this machine, as close as it gets without a container runtime.

- The account: an unprivileged user (`nobody`), so the step cannot write where the image's
  user (uid 10001) could not either.
- The image: the runtime Dockerfile's layout under a workspace — /opt/tickcast (this venv,
  hard-linked, with tickcast installed into it rather than pointing at the checkout), /app (its
  working directory: the compiled pipelines, the config file, the sample data; owned by root,
  so read-only for the account) — and its ENV, read from the Dockerfile.
- The pod: the environment variables and the ConfigMap volume that the compiled pipelines ask
  kfp-kubernetes for, filled from the documents the chart renders.

Absolute paths of the image (/app, /opt/tickcast, ...) are mapped into the workspace wherever
they appear in an environment variable, as a mount would.
"""

from __future__ import annotations

import base64
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.chart import ROOT

DOCKERFILE = ROOT / "images/runtime/Dockerfile"
PIPELINES = ("daily", "retraining")
INTERPRETER = f"python{sys.version_info.major}.{sys.version_info.minor}"


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int

    @classmethod
    def unprivileged(cls) -> Account:
        entry = pwd.getpwnam("nobody")
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid)

    def run(self, command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        """`command` as this account (no supplementary groups), output captured as text."""
        return subprocess.run(
            command,
            user=self.uid,
            group=self.gid,
            extra_groups=[],
            capture_output=True,
            text=True,
            check=False,
            **options,
        )

    def start(self, command: list[str], log: Path, **options: Any) -> subprocess.Popen[bytes]:
        """`command` in the background as this account, its output appended to `log`."""
        with log.open("ab") as output:
            return subprocess.Popen(
                command,
                user=self.uid,
                group=self.gid,
                extra_groups=[],
                stdout=output,
                stderr=subprocess.STDOUT,
                **options,
            )

    def can(self, *command: str) -> bool:
        """Whether `command` succeeds as this account (False when it cannot even start)."""
        try:
            return self.run(list(command)).returncode == 0
        except PermissionError:
            return False

    def owns(self, path: Path, mode: int = 0o700) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, self.uid, self.gid)
        path.chmod(mode)
        return path


def linked_copy(source: Path, target: Path) -> None:
    """Copy a tree by hard links (seconds for a venv); a full copy across file systems."""
    if subprocess.run(["cp", "-al", str(source), str(target)], check=False).returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)


def replace_file(path: Path, text: str) -> None:
    """Write `path` without touching the file a hard link shares with the original."""
    path.unlink(missing_ok=True)
    path.write_text(text)


@dataclass(frozen=True)
class Image:
    """The runtime image's file system, mapped into a workspace."""

    workspace: Path
    mounts: dict[str, Path]  # image path -> where it lives here
    python: Path  # /opt/tickcast/bin/python
    library_path: str  # the interpreter's shared library, when it had to be copied
    workdir: Path
    env: dict[str, str]

    def path(self, image_path: str) -> Path:
        return Path(self.mapped(image_path))

    def mapped(self, value: str) -> str:
        """`value` (a path, or paths joined by ':') with image paths replaced by their mounts."""
        parts = []
        for part in value.split(":"):
            for image_path, local in sorted(self.mounts.items(), key=lambda m: -len(m[0])):
                if part == image_path or part.startswith(image_path.rstrip("/") + "/"):
                    part = str(local) + part[len(image_path.rstrip("/")) :]
                    break
            parts.append(part)
        return ":".join(parts)


def dockerfile_instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(instruction, arguments) of the final stage, continuation lines joined."""
    lines, current = [], ""
    for raw in dockerfile.read_text().splitlines():
        if raw.lstrip().startswith("#") and not current:
            continue
        current += raw.rstrip().removesuffix("\\") + " "
        if not raw.rstrip().endswith("\\"):
            if current.strip():
                lines.append(current.strip())
            current = ""
    stages = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
    final = lines[stages[-1] :] if stages else lines
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in final]


def build_image(workspace: Path, account: Account) -> Image:
    """The runtime image's layout and ENV in `workspace`, runnable by `account`."""
    instructions = dockerfile_instructions(DOCKERFILE)
    workdir = next(args for name, args in reversed(instructions) if name == "WORKDIR")
    image_env: dict[str, str] = {}
    for name, args in instructions:
        if name == "ENV":
            for pair in args.split():
                key, _, value = pair.partition("=")
                image_env[key] = value.replace("$PATH", "/usr/local/bin:/usr/bin:/bin")

    python_home = _interpreter_for(account, workspace)
    venv = workspace / "opt-tickcast"
    _install_venv(venv, python_home)
    app = workspace / "app"
    for name in PIPELINES:
        (app / "pipelines").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / f"pipelines/{name}.yaml", app / f"pipelines/{name}.yaml")
    (app / "config").mkdir()
    shutil.copyfile(ROOT / "config/tickcast.yaml", app / "config/tickcast.yaml")
    (app / "data").mkdir()
    linked_copy(ROOT / "data/sample", app / "data/sample")
    mounts = {
        "/opt/tickcast": venv,
        workdir: app,
        image_env["HOME"]: account.owns(workspace / "home"),
        "/tmp": account.owns(workspace / "tmp", 0o1777),
    }
    image = Image(
        workspace=workspace,
        mounts=mounts,
        python=venv / "bin/python",
        library_path=str(python_home / "lib"),
        workdir=app,
        env={},
    )
    env = {key: image.mapped(value) for key, value in image_env.items()}
    env["LD_LIBRARY_PATH"] = image.library_path
    env["TMPDIR"] = str(mounts["/tmp"])
    return Image(**{**image.__dict__, "env": env})


def _interpreter_for(account: Account, workspace: Path) -> Path:
    """This Python's installation, or a hard-linked copy when `account` cannot run it (a pyenv
    build under root's home, say)."""
    home = Path(sys.base_prefix)
    if account.can(str(home / "bin" / INTERPRETER), "-c", "import encodings"):
        return home
    copy = workspace / "python"
    linked_copy(home, copy)
    return copy


def _install_venv(venv: Path, python_home: Path) -> None:
    """This venv re-pointed at `python_home`, tickcast installed in it instead of editable."""
    linked_copy(Path(sys.prefix), venv)
    for name in ("python", "python3", INTERPRETER):
        (venv / "bin" / name).unlink(missing_ok=True)
    (venv / "bin" / INTERPRETER).symlink_to(python_home / "bin" / INTERPRETER)
    for name in ("python", "python3"):
        (venv / "bin" / name).symlink_to(INTERPRETER)
    config = venv / "pyvenv.cfg"
    lines = [
        f"home = {python_home / 'bin'}" if line.startswith("home =") else line
        for line in config.read_text().splitlines()
        if not line.startswith(("executable =", "command ="))
    ]
    replace_file(config, "\n".join(lines) + "\n")
    site_packages = venv / f"lib/{INTERPRETER}/site-packages"
    for editable in site_packages.glob("__editable__*tickcast*"):
        editable.unlink()
    shutil.copytree(
        ROOT / "src/tickcast",
        site_packages / "tickcast",
        ignore=shutil.ignore_patterns("__pycache__"),
    )


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


def pod_environment(image: Image, chart: list[dict[str, Any]], namespace: str) -> dict[str, str]:
    """The pod's configuration for a step run from `image`'s layout here: the ConfigMap volumes
    written into their mounts, paths in the environment mapped to them."""
    pod = pod_configuration(image.workdir / "pipelines", chart, namespace)
    for mount_path, files in pod.volumes.items():
        mount = image.workspace / "mounts" / mount_path.strip("/")
        mount.mkdir(parents=True)
        for key, text in files.items():
            (mount / key).write_text(text)
        image.mounts[mount_path] = mount
    return {
        **{variable: image.mapped(value) for variable, value in pod.config_env.items()},
        **pod.secret_env,
    }


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
