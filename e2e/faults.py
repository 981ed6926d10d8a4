"""Faults under the real engine (`make e2e`, staging): each fault hits a `pulumi up` that is
creating the stack on an empty cluster, each on a control plane and stack of its own. Then the
runbook's recovery (docs/runbooks/failed-up.md, "Recover a stopped or killed run") is applied as a
user would: `pulumi up`, and for every error any command printed, its remedy, in the runbook's
order, until `pulumi up` succeeds; then `pulumi preview --expect-no-changes` must be clean.
Per fault: how the update ended, what state and cluster held, each recovery command with its exit
(and its output when it failed), and the seconds from the fault to a clean preview."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from e2e import engine, live
from e2e.errors import HarnessError
from e2e.report import output_tail
from e2e.scenario import StackRun, Step

# The update is hit once this many resources are done: far enough in that state has changed.
HIT_AFTER = 8
# Rounds of `pulumi up` and remedies before the recovery gives up.
ROUNDS = 4
Injector = Callable[[subprocess.Popen[str], StackRun], str]


def _done(log: Path | None) -> int:
    if log is None or not log.is_file():
        return 0
    return sum(1 for line in log.read_text().splitlines() if '"resOutputsEvent"' in line)


def sigterm(proc: subprocess.Popen[str], s: StackRun) -> str:
    os.kill(proc.pid, signal.SIGTERM)
    return "SIGTERM to the pulumi CLI"


def sigkill(proc: subprocess.Popen[str], s: StackRun) -> str:
    os.kill(proc.pid, signal.SIGKILL)
    return "SIGKILL to the pulumi CLI"


def apiserver_down(proc: subprocess.Popen[str], s: StackRun) -> str:
    s.plane.process("kube-apiserver").stop()
    time.sleep(20)
    restarted = s.plane.start_again("kube-apiserver")
    s.plane.wait_until(
        "the API server again", lambda: s.plane.get("/readyz") == b"ok", restarted, 90
    )
    return "kube-apiserver stopped for 20 s, then started again"


def etcd_restart(proc: subprocess.Popen[str], s: StackRun) -> str:
    s.plane.process("etcd").stop()
    time.sleep(5)
    s.plane.start_again("etcd")
    return "etcd stopped for 5 s, then started again"


def pack_killed(proc: subprocess.Popen[str], s: StackRun) -> str:
    pids = engine.descendants(proc.pid, "pulumi.policy")
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return f"SIGKILL to the policy pack ({len(pids)} process)"


def _checkpoint(pulumi: engine.Engine, suffix: str = "") -> Path:
    """The one stack's checkpoint file (with `suffix`: its backup) in the file backend."""
    stacks = pulumi.folder / "state" / ".pulumi" / "stacks"
    found = sorted(p for p in stacks.rglob(f"*.json{suffix}") if p.parent.parent == stacks)
    if len(found) != 1:
        raise HarnessError(
            f"expected one checkpoint *.json{suffix} under {stacks}, found {len(found)}: "
            "the faults run on one stack per backend"
        )
    return found[0]


def torn_checkpoint(proc: subprocess.Popen[str], s: StackRun) -> str:
    """A killed run whose checkpoint is unreadable. A kill alone cannot tear it (the file
    backend writes a temporary file and renames it over the checkpoint); a machine that goes
    down before the file reaches its disk, or a state file copied or edited by hand, can."""
    os.kill(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)
    state = _checkpoint(s.pulumi)
    text = state.read_bytes()
    state.write_bytes(text[: len(text) // 2])
    return f"SIGKILL to the pulumi CLI, its checkpoint cut to {len(text) // 2} of {len(text)} bytes"


@dataclass(frozen=True)
class Fault:
    name: str
    does: str
    inject: Injector
    # The policy pack killed: the update must fail, never pass unchecked.
    update_must_fail: bool = False


FAULTS = (
    Fault("sigterm", "SIGTERM to the CLI", sigterm),
    Fault("sigkill", "SIGKILL to the CLI (its lock stays)", sigkill),
    Fault("apiserver-down", "kube-apiserver stopped for 20 s", apiserver_down),
    Fault("etcd-restart", "etcd stopped for 5 s", etcd_restart),
    Fault("pack-killed", "SIGKILL to the policy pack", pack_killed, update_must_fail=True),
    Fault(
        "torn-checkpoint", "SIGKILL to the CLI, then its checkpoint cut in half", torn_checkpoint
    ),
)


@dataclass(frozen=True)
class Remedy:
    """One recovery step of the runbook: what an error says that calls for it, and the command."""

    says: str
    command: str
    apply: Callable[[StackRun, Recovery], engine.Result]


def _cancel(s: StackRun, r: Recovery) -> engine.Result:
    return s.cli("cancel", "--yes", event_log=False)


def _restore(s: StackRun, r: Recovery) -> engine.Result:
    """The file backend keeps the checkpoint before each write as `<stack>.json.bak`, a whole
    checkpoint file it reads as it is: put it in place of the torn one, then `pulumi stack
    export` reads it back. The backend (gocloud's fileblob) also keeps each file's attributes
    beside it in `<file>.attrs`, rewritten in place: a kill can leave that empty, and then every
    read of the checkpoint fails with "EOF" however whole the checkpoint is (seen in make e2e);
    without it the file reads as plain data. Both torn files are kept as `*.torn`. `pulumi stack
    import` cannot repair either: the CLI loads the stack before it imports."""
    state = _checkpoint(s.pulumi)
    for path in (state, state.with_name(state.name + ".attrs")):
        if path.exists():
            path.replace(path.with_name(path.name + ".torn"))
    state.write_text(json.dumps(r.backup()))
    return s.cli("stack", "export", event_log=False)


def _refresh(s: StackRun, r: Recovery) -> engine.Result:
    return s.cli("refresh", "--yes", "--clear-pending-creates")


# The runbook's order: the lock first (nothing else runs on a locked stack), then the checkpoint
# (a refresh needs a readable one), then pending operations.
REMEDIES = (
    Remedy("the stack is currently locked", "pulumi cancel --yes", _cancel),
    Remedy(
        "failed to load checkpoint",
        "cp <stack>.json.bak <stack>.json (the torn file and its .attrs kept), pulumi stack export",
        _restore,
    ),
    Remedy("pending operations", "pulumi refresh --yes --clear-pending-creates", _refresh),
)


def called_for(result: engine.Result) -> list[Remedy]:
    """The remedies a command's errors call for, in the runbook's order."""
    text = "\n".join([result.stdout, result.stderr, *result.diagnostics()])
    return [remedy for remedy in REMEDIES if remedy.says in text]


@dataclass
class Recovery:
    s: StackRun
    steps: list[dict[str, Any]]
    _backup: dict[str, Any] | None = None

    def backup(self) -> dict[str, Any]:
        """The backup, read once before any recovery command: each write moves it on."""
        if self._backup is None:
            try:
                self._backup = dict(json.loads(_checkpoint(self.s.pulumi, ".bak").read_text()))
            except (ValueError, OSError) as exc:
                raise HarnessError(f"no readable checkpoint backup to restore: {exc}") from exc
        return self._backup

    def apply(self, remedy: Remedy) -> engine.Result:
        result = remedy.apply(self.s, self)
        step: dict[str, Any] = {"command": remedy.command, "exit": result.returncode}
        if result.returncode != 0:
            step["output"] = output_tail(result)
        self.steps.append(step)
        return result

    def run(self) -> bool:
        """`pulumi up`; while it fails, the remedies its errors call for, in the runbook's
        order. A remedy that fails saying it needs another (a command on a locked stack) gets
        that one first, then is run again: whichever error the CLI reports first, the same
        commands follow."""
        with contextlib.suppress(HarnessError):
            self.backup()
        for _ in range(ROUNDS):
            up = self.s.cli("up", "--yes", pack=True)
            self.steps.append({"command": "pulumi up --yes", "exit": up.returncode})
            if up.returncode == 0:
                return True
            self.steps[-1]["output"] = output_tail(up)
            wanted = called_for(up)
            if not wanted:
                return False
            for remedy in wanted:
                result = self.apply(remedy)
                first = [r for r in called_for(result) if r is not remedy]
                if result.returncode != 0 and first:
                    for needed in first:
                        self.apply(needed)
                    self.apply(remedy)
        return False


def run_fault(fault: Fault, s: StackRun) -> str:
    hit_at: list[float] = []
    below: list[int] = []
    what: list[str] = []

    def during(proc: subprocess.Popen[str], log: Path | None) -> None:
        end = time.monotonic() + 300
        while _done(log) < HIT_AFTER and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.1)
        if proc.poll() is None:
            hit_at.append(time.monotonic())
            # Taken before the fault: a killed CLI's plugins are re-parented and lost to view.
            below.extend(engine.descendants(proc.pid))
            what.append(fault.inject(proc, s))

    # --skip-preview: the fault lands in the update itself, not in the preview `up` starts with.
    up = s.cli("up", "--yes", "--skip-preview", pack=True, during=during)
    outcome: dict[str, Any] = {
        "fault": what[0] if what else "not injected: the update ended first",
        "exit": up.returncode,
        "done_before_fault": HIT_AFTER,
        "error": (up.diagnostics() or up.stderr.strip().splitlines() or [""])[-1][:300],
        # Whatever the CLI left of its plugins (SIGKILL leaves them running) goes now.
        "orphaned_plugins": _leftovers(below),
        "pending_operations": _pending(s.pulumi),
        "objects_live": len(live.ours(s.plane.kubeconfig)),
    }
    s.report.steps[fault.name] = outcome
    check = s.report.check
    check(bool(what), f"{fault.name}: not injected, the update ended first")
    if fault.update_must_fail:
        check(up.returncode != 0, f"{fault.name}: the update passed without its policy pack")
    recovery = Recovery(s, [])
    outcome["recovery"] = recovery.steps
    recovered = recovery.run()
    check(recovered, f"{fault.name}: `pulumi up` still fails after the runbook's recovery")
    clean = s.cli("preview", "--expect-no-changes", pack=True)
    outcome["clean_preview"] = clean.returncode == 0
    outcome["seconds_to_clean"] = round(time.monotonic() - hit_at[0], 1) if hit_at else None
    check(clean.returncode == 0, f"{fault.name}: no clean preview after the recovery")
    if clean.returncode != 0:
        outcome["preview_output"] = output_tail(clean)
    commands = " -> ".join(step["command"].split(" (")[0] for step in recovery.steps)
    return f"up exit {up.returncode}; {commands}; clean after {outcome['seconds_to_clean']} s"


def _pending(pulumi: engine.Engine) -> int | str:
    try:
        state = pulumi.stack_export()
    except HarnessError as exc:
        return f"state unreadable: {exc}"
    return len((state.get("deployment") or {}).get("pending_operations") or [])


def _leftovers(pids: list[int]) -> list[str]:
    """The run's plugins still alive after the CLI ended (a SIGKILL leaves them), then stopped."""
    left: list[str] = []
    for pid in pids:
        with contextlib.suppress(OSError):
            raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            os.kill(pid, signal.SIGKILL)
            left.append(raw.decode(errors="replace").strip()[:120])
    return left


STEPS = tuple(
    Step(
        fault.name,
        f"`pulumi up --skip-preview` on an empty cluster, hit once {HIT_AFTER} resources are "
        f"done: {fault.does}; then the runbook's recovery",
        ("the update fails (never passes unchecked); " if fault.update_must_fail else "")
        + "the recovery ends in a successful `pulumi up` and a clean "
        "`pulumi preview --expect-no-changes`",
        functools.partial(run_fault, fault),
    )
    for fault in FAULTS
)
