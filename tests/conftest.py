"""Shared test helpers: the repository, its vendored upstream files, and running infractl."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
VENDOR = REPO / "vendor"


def vendored(*parts: str) -> Path:
    """A file or folder under vendor/ (see vendor/README.md), never outside the repository."""
    path = VENDOR.joinpath(*parts)
    assert path.exists(), f"{path} is missing from vendor/"
    return path


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def infractl(*args: str | Path, cwd: Path = REPO, env: dict[str, str] | None = None) -> Run:
    base = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "PROMETHEUS_URL")}
    proc = subprocess.run(
        [sys.executable, "-m", "infractl.cli", *map(str, args)],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def load_stack(stack: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())


def write_stack(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def set_at(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A stack mutation: set `tbcoin-platform:<path>` (dots between keys) to `value`."""

    def mutate(config: dict[str, Any]) -> None:
        top, *rest = path.split(".")
        node = config[f"tbcoin-platform:{top}"]
        for part in rest[:-1]:
            node = node[part]
        node[rest[-1]] = value

    return mutate


def config_problems(
    mutate: Callable[[dict[str, Any]], None], folder: Path, stack: str = "prod"
) -> str:
    """What the offline tools report, in-process, for a real stack file changed by
    `mutate(config_dict)`; '' when it is accepted. (ConfigError is exit 2 in every command.)"""
    from infra.config import ConfigError
    from infra.stack import load_stack as load_config
    from infractl.stackfile import read_stack_file

    document = copy.deepcopy(load_stack(stack))
    mutate(document["config"])
    path = write_stack(folder / f"Pulumi.{stack}.yaml", document)
    try:
        load_config(path.name, read_stack_file(path).config, stack=stack)
    except ConfigError as exc:
        return exc.render()
    return ""


@pytest.fixture
def mutated_stack(tmp_path: Path) -> Callable[..., Path]:
    """A copy of a real stack file changed by `mutate(config_dict)`, written to tmp."""

    def make(mutate: Callable[[dict[str, Any]], None], stack: str = "prod") -> Path:
        document = copy.deepcopy(load_stack(stack))
        mutate(document["config"])
        return write_stack(tmp_path / f"Pulumi.{stack}-mutated.yaml", document)

    return make


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Synth a real stack once per test session; returns its output folder."""
    done: dict[str, Path] = {}

    def get(stack: str) -> Path:
        if stack not in done:
            out = tmp_path_factory.mktemp(f"synth-{stack}") / "out"
            run = infractl("synth", "--stack", stack, "--out", out)
            assert run.code == 0, run.stderr
            done[stack] = out
        return done[stack]

    return get


def manifests(out: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted((out / "kubernetes").rglob("*.yaml"))]


def resources(out: Path) -> list[dict[str, Any]]:
    import json

    return list(json.loads((out / "resources.json").read_text()))
