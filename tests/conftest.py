"""Shared test helpers: the repository, its vendored upstream files, and running infractl."""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from infractl.stackfile import StackFile
    from infractl.synth.harness import SynthResult
    from tests.fake_kubernetes import FakeKubernetes

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


def heavy_imports(args: list[str | Path], packages: tuple[str, ...]) -> tuple[int, list[str]]:
    """`infractl <args>` in a fresh interpreter: its exit code and which of `packages` it
    imported (for commands that must stay light)."""
    probe = (
        "import sys, contextlib, io\n"
        "from infractl.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({[str(a) for a in args]!r})\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {packages!r})\n"
        "print(code, ' '.join(heavy))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    code, _, heavy = run.stdout.strip().partition(" ")
    return int(code), heavy.split()


# Tools `make tools` builds from Go modules: without Go their tests are skipped, except in CI.
GO_BUILT = {"ACTIONLINT", "KUBE_SCORE", "KUBECONFORM", "NOTIFICATION_EXPR"}


def tool_path(variable: str, default: str) -> str:
    """The tool `make unit` names in $variable, else the one at `default` under the project."""
    path = os.environ.get(variable) or str(REPO / default)
    if not Path(path).exists() and variable in GO_BUILT and os.environ.get("CI") != "true":
        # Built from its Go module; `make test` itself does not need Go (CI has it and must run it).
        pytest.skip(f"no {Path(default).name} at {path}: it is built with Go by `make tools`")
    assert Path(path).exists(), f"{variable}: nothing at {path}: run `make tools`"
    return path


@pytest.fixture
def rollout_cluster(
    synthesized: Callable[[str], Path], tmp_path: Path
) -> Iterator[tuple[FakeKubernetes, dict[str, str]]]:
    """A stand-in API server holding prod's synthesized Rollouts, and the environment that
    points the kubernetes client at it."""
    from tests.fake_kubernetes import fake_kubernetes

    with fake_kubernetes() as fake:
        for m in manifests(synthesized("prod")):
            if m["kind"] == "Rollout":
                meta = m["metadata"]
                fake.rollouts[(meta["namespace"], meta["name"])] = copy.deepcopy(m)
        yield fake, {"KUBECONFIG": str(fake.kubeconfig(tmp_path, "tbcoin-prod"))}


def load_stack(stack: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())


def write_stack(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def set_at(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A stack mutation: set `tbcoin-platform:<path>` (dots between keys) to `value`, creating
    the sections on the way."""

    def mutate(config: dict[str, Any]) -> None:
        top, *rest = path.split(".")
        node = config[f"tbcoin-platform:{top}"]
        for part in rest[:-1]:
            node = node.setdefault(part, {})
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


_SYNTHS: dict[str, tuple[SynthResult, StackFile]] = {}


def synth(stack: str, document: dict[str, Any] | None = None) -> tuple[SynthResult, StackFile]:
    """The real program run in this process (as `infractl synth` runs it) over a stack's config:
    the stack file, or `document` in its place. Cached per test run by content, so every test
    that needs the same stack shares one run."""
    document = load_stack(stack) if document is None else document
    text = yaml.safe_dump(document, sort_keys=True)
    key = hashlib.sha256(f"{stack}\0{text}".encode()).hexdigest()
    if key not in _SYNTHS:
        from infra.secrets import OFFLINE_ENV
        from infra.stack import load_stack as load_config
        from infractl.stackfile import read_stack_file
        from infractl.synth.harness import run_program

        folder = Path(tempfile.mkdtemp(prefix="tbcoin-synth-"))
        path = write_stack(folder / f"Pulumi.{stack}.yaml", document)
        stack_file = read_stack_file(path)
        offline = os.environ.get(OFFLINE_ENV)
        try:
            config = load_config(path.name, stack_file.config, stack=stack)
            result = run_program(stack, stack_file, config)
        finally:  # the harness marks its process offline; tests after this one are not
            if offline is None:
                os.environ.pop(OFFLINE_ENV, None)
        shutil.rmtree(folder)
        _SYNTHS[key] = (result, stack_file)
    return _SYNTHS[key]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The synth output folder of a real stack, written once per test run (per worker)."""
    from infractl.synth.render import write_output

    done: dict[str, Path] = {}

    def get(stack: str) -> Path:
        if stack not in done:
            out = tmp_path_factory.mktemp(f"synth-{stack}") / "out"
            write_output(synth(stack)[0], out)
            done[stack] = out
        return done[stack]

    return get


def manifests(out: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted((out / "kubernetes").rglob("*.yaml"))]


def resources(out: Path) -> list[dict[str, Any]]:
    import json

    return list(json.loads((out / "resources.json").read_text()))


# --- the GitHub API stand-in (tests/github_standin.py) -----------------------------------------

_standin: list[Any] = []  # the running StandIn of this process, once started


def _start_standin() -> Any:
    from tests.github_standin import StandIn

    if not _standin:
        running = StandIn()
        running.start()
        _standin.append(running)
    return _standin[0]


def pytest_sessionstart(session: pytest.Session) -> None:
    # Under xdist (`make test`) each worker starts its Prism at once, in the background, so its
    # start-up overlaps other tests instead of holding up the first GitHub test.
    from tests.github_standin import missing

    if os.environ.get("PYTEST_XDIST_WORKER") and missing() is None:
        _start_standin()


def pytest_sessionfinish(session: pytest.Session) -> None:
    while _standin:
        _standin.pop().stop()


@pytest.fixture(scope="session")
def github_standin() -> Any:
    """Prism serving GitHub's OpenAPI description; skipped without Node, except in CI."""
    from tests.github_standin import missing

    reason = missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI must run the GitHub API tests)")
        pytest.skip(reason)
    return _start_standin()


@pytest.fixture
def github(github_standin: Any) -> Any:
    """An empty GitHub behind the stand-in, for one test (tests.github_standin.GitHub)."""
    return github_standin.fresh()
