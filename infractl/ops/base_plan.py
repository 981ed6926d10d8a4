"""`infractl check --base REF`: what this tree would change against another commit, offline.

The base commit's own program synthesizes its own stack settings in a temporary `git worktree`
(nothing else is touched: the worktree and its folder are removed afterwards, on Ctrl-C and
SIGTERM too); both sides' resources.json are compared resource by resource into the same model
as an engine preview, so the PR comment's ranked table renders it. No credentials, no state, no
cluster: for forks and local review. What only a provider knows (which changes force a
replacement, server-side defaults) is not in it; `pulumi preview` says that.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infractl.errors import UsageError
from infractl.ops.engine_output import MISSING, Change, EngineReport, PropertyDiff
from infractl.resources_file import load_resources_json
from infractl.signals import stops_held

PLAN_FORMAT = "plan"


def _git(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    git = shutil.which("git")
    if git is None:
        raise UsageError("--base needs git on PATH")
    return subprocess.run(
        [git, *args], cwd=project, capture_output=True, text=True, timeout=120, check=False
    )


def resolve(project: Path, ref: str) -> str:
    """The commit `ref` names in the project's repository (UsageError if none)."""
    if ref.startswith("-"):
        raise UsageError(f"--base {ref!r}: not a commit (a ref may not start with '-')")
    done = _git(project, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if done.returncode != 0 or not done.stdout.strip():
        raise UsageError(f"--base {ref!r}: not a commit of the repository at {project}")
    return done.stdout.strip()


@contextlib.contextmanager
def base_tree(project: Path, commit: str) -> Iterator[Path]:
    """A detached worktree of `commit` in a temporary folder, removed (and pruned from the
    repository's worktree list) however the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="tbcoin-base-"))
    tree = folder / "tree"
    try:
        with stops_held():  # a worktree half registered would outlive us
            added = _git(project, "worktree", "add", "--detach", "--quiet", str(tree), commit)
        if added.returncode != 0:
            last = (added.stderr.strip().splitlines() or ["no output"])[-1]
            raise UsageError(f"--base: git worktree add failed: {last}")
        yield tree
    finally:
        with stops_held():
            _git(project, "worktree", "remove", "--force", str(tree))
            shutil.rmtree(folder, ignore_errors=True)
            _git(project, "worktree", "prune")


def synth_base(tree: Path, stack: str, out: Path, timeout: float) -> list[dict[str, Any]]:
    """The base's own program over the base's own settings (`Pulumi.<stack>.yaml` of that
    commit), run from the base tree with this environment's packages."""
    command = [sys.executable, "-m", "infractl.cli", "synth", "--stack", stack, "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(tree)}  # the base's modules before the installed ones
    with stops_held():
        proc = subprocess.Popen(
            command, cwd=tree, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise UsageError(f"--base: the base's synth of {stack} took over {timeout:.0f} s") from None
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.returncode != 0:
        last = (stderr.strip().splitlines() or ["no output"])[-1][:300]
        raise UsageError(f"--base: the base's synth of stack {stack} failed: {last}")
    return load_resources_json(out / "resources.json")


def plan(base: list[dict[str, Any]], head: list[dict[str, Any]], source: str) -> EngineReport:
    """The changes from `base` to `head` (both resources.json), as a preview would list them:
    resources created, deleted, or updated with each changed top-level input."""
    before = {r["urn"]: r for r in base}
    after = {r["urn"]: r for r in head}
    report = EngineReport(source=source, format=PLAN_FORMAT, complete=True)
    ops: Counter[str] = Counter()
    for urn in sorted(before.keys() | after.keys()):
        old, new = before.get(urn), after.get(urn)
        resource = new or old or {}
        inputs = {side: _inputs(r) for side, r in (("old", old), ("new", new))}
        if old is None:
            op = "create"
        elif new is None:
            op = "delete"
        elif inputs["old"] != inputs["new"]:
            op = "update"
        else:
            op = "same"
        ops[op] += 1
        if op == "same":
            continue
        diffs = [
            PropertyDiff(key, "update", inputs["old"].get(key, MISSING),
                         inputs["new"].get(key, MISSING))
            for key in sorted(inputs["old"].keys() | inputs["new"].keys())
            if inputs["old"].get(key, MISSING) != inputs["new"].get(key, MISSING)
        ] if op == "update" else []  # fmt: skip
        options = (old or {}).get("options")
        report.changes.append(
            Change(
                urn=urn,
                type=str(resource.get("type", "")),
                op=op,
                diffs=diffs,
                protected=isinstance(options, dict) and options.get("protect") is True,
                inputs=inputs["new"] or inputs["old"],
            )
        )
    report.summary = report.steps = ops
    report.stack = next((urn.split(":")[2] for urn in after or before), "")
    return report


def _inputs(resource: dict[str, Any] | None) -> dict[str, Any]:
    inputs = (resource or {}).get("inputs")
    return inputs if isinstance(inputs, dict) else {}
