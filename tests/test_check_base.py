"""`infractl check --base REF` (and `make plan BASE=REF`): this tree's plan against REF's,
offline, as the ranked table the PR comment shows; the temporary worktree never outlives the
command, Ctrl-C and SIGTERM included. Runs in a throwaway clone of this repository, with a
working-tree change against its HEAD."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, Run

# This checkout's infractl, run in the clone (`python -m` would import the clone's own).
COMMAND = [sys.executable, "-c", f"import sys; sys.path[0] = {str(REPO)!r}; "
           "from infractl.cli import run; run()"]  # fmt: skip


def infractl(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    done = subprocess.run([*COMMAND, *args], cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    return Run(done.returncode, done.stdout, done.stderr)


CHANGE = ("requests: {cpu: 500m, memory: 1Gi}", "requests: {cpu: 750m, memory: 1Gi}")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A clone of this repository at its HEAD, with prod's inference requests raised."""
    folder = tmp_path_factory.mktemp("clone") / "repo"
    subprocess.run(["git", "clone", "--quiet", "--shared", str(REPO), str(folder)], check=True)
    settings = folder / "Pulumi.prod.yaml"
    text = settings.read_text()
    assert CHANGE[0] in text
    settings.write_text(text.replace(CHANGE[0], CHANGE[1], 1))
    yield folder


def _leftovers(clone: Path, tmp: Path) -> tuple[list[str], list[str]]:
    worktrees = [line for line in _git(clone, "worktree", "list").splitlines() if line]
    return worktrees[1:], sorted(p.name for p in tmp.iterdir() if p.name.startswith("tbcoin-"))


def test_the_plan_against_head_shows_the_working_tree_change(clone: Path, tmp_path: Path) -> None:
    before = _git(clone, "status", "--porcelain")
    run = infractl("check", "--stack", "prod", "--base", "HEAD", cwd=clone,
                   env={"TMPDIR": str(tmp_path)})  # fmt: skip
    assert run.code == 0, run.stderr
    head = _git(clone, "rev-parse", "HEAD")
    lines = run.stdout.splitlines()
    assert lines[1] == f"## Plan against `HEAD ({head[:12]})`"
    assert lines[3] == (
        "🟠 **1 high change**: `prod` `tbcoin-prod-rollout-inference` "
        "`spec.template.spec.containers[0].resources.requests.cpu` `500m` → `750m`"
    )
    assert f"commit `{head[:12]}` with uncommitted changes" in run.stdout
    assert "| container requests or limits changed |" in run.stdout
    # Nothing else touched: no worktree, no temporary folder, the clone's status as it was.
    assert _leftovers(clone, tmp_path) == ([], [])
    assert _git(clone, "status", "--porcelain") == before


def test_sigterm_removes_the_temporary_worktree(clone: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*COMMAND, "check", "--stack", "prod", "--base", "HEAD"],
        cwd=clone, env={**os.environ, "TMPDIR": str(tmp_path)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while not list(tmp_path.glob("tbcoin-base-*/tree/Pulumi.yaml")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.2)
        time.sleep(1)  # into the base's synth
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.strip().splitlines()[-1] == "infractl: stopped by SIGTERM"
    assert _leftovers(clone, tmp_path) == ([], [])
    synths = [
        p for p in Path("/proc").iterdir()
        if p.name.isdigit() and str(tmp_path) in _cmdline(p)
    ]  # fmt: skip
    assert synths == []


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--base", "no-such-ref"], "--base 'no-such-ref': not a commit of the repository"),
        (["--base=--upload-pack=x"], "not a commit (a ref may not start with '-')"),
        (["--base", "HEAD", "--from", "."], "it cannot use --from"),
    ],
)
def test_a_base_that_is_not_one_is_one_line_and_exit_2(
    clone: Path, args: list[str], says: str
) -> None:
    run = infractl("check", "--stack", "prod", *args, cwd=clone)
    assert run.code == 2 and run.stdout == ""
    assert len(run.stderr.splitlines()) == 1 and says in run.stderr, run.stderr


def test_make_plan_passes_base_through() -> None:
    dry = subprocess.run(
        ["make", "-n", "plan", "BASE=main", "STACK=prod"], cwd=REPO, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    assert "infractl check --stack prod --out out/prod --base 'main'" in dry.stdout
    plain = subprocess.run(["make", "-n", "plan"], cwd=REPO, capture_output=True, text=True)
    assert "--base" not in plain.stdout
