"""Every command in the README is exercised. Shell blocks carry a mark after the language:
`test` blocks run as written, in order, in a fresh working directory (`make test-release`:
tests/release/test_readme_tour.py); `reference` (the CLI list) is checked against the real command
tree; `cluster` blocks, which need Docker and Kubernetes, are checked offline (`make -n`, `helm
template`, `kubectl kustomize`); `ci` blocks are make targets that CI (`.ci/run`) runs. The
configuration table is checked against `Settings`."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from tickcast.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
TOOLS = ROOT / ".tickcast/tools/bin"
SHELLS = {"bash", "sh", "shell", "console"}
MARKS = {"test", "reference", "cluster", "ci"}
BLOCK = re.compile(r"^```(\w*)[ \t]*([\w-]*)\n(.*?)^```", re.S | re.M)
# Services a `cluster` block port-forwards to that other projects' manifests install.
EXTERNAL_SERVICES = {("kubeflow", "ml-pipeline-ui")}  # Kubeflow Pipelines, by `make kind-up`


def blocks(mark: str) -> list[str]:
    return [body for lang, found, body in BLOCK.findall(README) if lang in SHELLS and found == mark]


def commands(body: str) -> list[list[str]]:
    """The block's commands as argument lists (comments dropped, continuation lines joined)."""
    return [shlex.split(line, comments=True) for line in body.replace("\\\n", " ").splitlines()]


def test_every_shell_block_says_how_it_is_exercised() -> None:
    found = [(lang, mark) for lang, mark, _ in BLOCK.findall(README) if lang in SHELLS]
    assert found and all(mark in MARKS for _, mark in found), found
    assert all(blocks(mark) for mark in MARKS)


def _command_tree() -> Any:
    import typer

    from tickcast.cli.app import app

    return typer.main.get_command(app)


def _leaves(command: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if hasattr(command, "commands"):
        found: dict[tuple[str, ...], Any] = {}
        for name, sub in command.commands.items():
            found.update(_leaves(sub, (*path, name)))
        return found
    return {path: command}


def test_cli_reference_names_every_command_and_only_real_options() -> None:
    tree = _command_tree()
    leaves = _leaves(tree)
    global_options = {opt for param in tree.params for opt in param.opts}
    listed: set[tuple[str, ...]] = set()
    for words in commands("\n".join(blocks("reference"))):
        if not words:
            continue
        assert words[0] == "tickcast", words
        words = [w.strip("[]").removesuffix("]...") for w in words[1:]]
        path = next(p for n in range(len(words), 0, -1) if (p := tuple(words[:n])) in leaves)
        listed.add(path)
        params = leaves[path].params
        options = {opt: param for param in params for opt in (*param.opts, *param.secondary_opts)}
        positional = 0
        rest = iter(words[len(path) :])
        for word in rest:
            if word.startswith("-"):
                assert word in options or word in global_options, f"{' '.join(path)}: {word}"
                if word in options and not options[word].is_flag:
                    next(rest)  # its value
            else:
                positional += 1
        arguments = [p for p in params if p.param_type_name == "argument"]
        assert positional == len(arguments), f"{' '.join(path)}: {positional} arguments"
    assert listed == set(leaves), f"not in the README: {sorted(set(leaves) - listed)}"


def _settings_leaves(model: BaseModel, prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            found.update(_settings_leaves(value, f"{prefix}{name}."))
        else:
            found[f"{prefix}{name}"] = value
    return found


def _render(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_render(item) for item in value) + "]"
    return str(value)


def test_configuration_reference_lists_every_key_with_its_default() -> None:
    section = README.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w.]+)` \| `([^`]*)` \|", section, re.M)
    documented = dict(rows)
    assert len(documented) == len(rows), "a key is listed twice"
    defaults = {key: _render(value) for key, value in _settings_leaves(Settings()).items()}
    assert set(documented) == set(defaults), (
        f"missing: {sorted(set(defaults) - set(documented))}; "
        f"unknown: {sorted(set(documented) - set(defaults))}"
    )
    wrong = {
        key: (shown, defaults[key]) for key, shown in documented.items() if shown != defaults[key]
    }
    assert not wrong, wrong
    # The example config file uses the same keys (it may set other values).
    example = yaml.safe_load((ROOT / "config/tickcast.yaml").read_text())
    assert set(_settings_leaves(Settings.model_validate(example))) == set(defaults)


def _make_dry_run(target: str) -> None:
    run = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip(), f"make -n {target}: {run.stderr}"


def test_ci_blocks_are_make_targets() -> None:
    for words in commands("\n".join(blocks("ci"))):
        if words:
            assert words[0] == "make" and len(words) == 2, words
            _make_dry_run(words[1])


def _rendered_services(namespace: str, extra: list[str]) -> set[str]:
    run = subprocess.run(
        [
            str(TOOLS / "helm"),
            "template",
            "tickcast",
            str(ROOT / "helm/tickcast"),
            "-n",
            namespace,
            *extra,
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    return {
        doc["metadata"]["name"]
        for doc in yaml.safe_load_all(run.stdout)
        if doc and doc.get("kind") == "Service"
    }


def test_cluster_blocks_check_offline(tmp_path: Path) -> None:
    if not (TOOLS / "helm").exists():
        pytest.fail("helm is missing: run `make tools`")
    for words in commands("\n".join(blocks("cluster"))):
        if not words:
            continue
        tool, args = words[0], words[1:]
        if tool == "make":
            for target in args:
                _make_dry_run(target)
        elif tool == "helm" and args[0] == "install":
            install_only = {"--create-namespace", "--wait", "--atomic"}
            run = subprocess.run(
                [str(TOOLS / "helm"), "template", *[a for a in args[1:] if a not in install_only]],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            assert run.returncode == 0, f"{' '.join(words)}: {run.stderr}"
        elif tool == "kubectl" and "port-forward" in args:
            namespace = args[args.index("-n") + 1]
            service = next(a for a in args if a.startswith("svc/")).removeprefix("svc/")
            assert (namespace, service) in EXTERNAL_SERVICES or service in _rendered_services(
                namespace, []
            ), words
        else:
            pytest.fail(f"no offline check for: {' '.join(words)}")
