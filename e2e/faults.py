"""Faults under the real engine (`make e2e`, staging): each fault hits a `pulumi up` that is
creating the stack on an empty cluster, then the runbook's recovery (docs/runbooks/failed-up.md)
is applied step by step until `pulumi preview --expect-no-changes` is clean. Per fault: how the
update ended, what state and cluster held, each recovery step taken, and the seconds from the
fault to a clean preview."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from e2e import controlplane, engine, live
from e2e.errors import HarnessError

# The update is hit once this many resources are done: far enough in that state has changed.
HIT_AFTER = 8
Injector = Callable[[subprocess.Popen[str], controlplane.ControlPlane, engine.Engine], str]


def _done(log: Path | None) -> int:
    if log is None or not log.is_file():
        return 0
    return sum(1 for line in log.read_text().splitlines() if '"resOutputsEvent"' in line)


def sigterm(
    proc: subprocess.Popen[str], plane: controlplane.ControlPlane, pulumi: engine.Engine
) -> str:
    os.kill(proc.pid, signal.SIGTERM)
    return "SIGTERM to the pulumi CLI"


def sigkill(
    proc: subprocess.Popen[str], plane: controlplane.ControlPlane, pulumi: engine.Engine
) -> str:
    os.kill(proc.pid, signal.SIGKILL)
    return "SIGKILL to the pulumi CLI"


def apiserver_down(
    proc: subprocess.Popen[str], plane: controlplane.ControlPlane, pulumi: engine.Engine
) -> str:
    plane.process("kube-apiserver").stop()
    time.sleep(20)
    restarted = plane.start_again("kube-apiserver")
    plane.wait_until("the API server again", lambda: plane.get("/readyz") == b"ok", restarted, 90)
    return "kube-apiserver stopped for 20 s, then started again"


def etcd_restart(
    proc: subprocess.Popen[str], plane: controlplane.ControlPlane, pulumi: engine.Engine
) -> str:
    plane.process("etcd").stop()
    time.sleep(5)
    plane.start_again("etcd")
    return "etcd stopped for 5 s, then started again"


def pack_killed(
    proc: subprocess.Popen[str], plane: controlplane.ControlPlane, pulumi: engine.Engine
) -> str:
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


def torn_checkpoint(
    proc: subprocess.Popen[str], plane: controlplane.ControlPlane, pulumi: engine.Engine
) -> str:
    """A kill in the middle of the file backend's checkpoint write (it is not atomic): what one
    SIGKILL left once, made certain."""
    os.kill(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)
    state = _checkpoint(pulumi)
    text = state.read_bytes()
    state.write_bytes(text[: len(text) // 2])
    return f"SIGKILL to the pulumi CLI, its checkpoint cut to {len(text) // 2} of {len(text)} bytes"


FAULTS: dict[str, Injector] = {
    "sigterm": sigterm,
    "sigkill": sigkill,
    "apiserver-down": apiserver_down,
    "etcd-restart": etcd_restart,
    "pack-killed": pack_killed,
    "torn-checkpoint": torn_checkpoint,
}


def _pending(pulumi: engine.Engine) -> int | str:
    try:
        state = pulumi.stack_export()
    except HarnessError as exc:
        return f"state unreadable: {exc}"
    return len((state.get("deployment") or {}).get("pending_operations") or [])


def _restore_backup(pulumi: engine.Engine, stack: str, backup: dict[str, Any] | None) -> str:
    """The file backend keeps the checkpoint before each write as `<stack>.json.bak`: a
    checkpoint, whose `latest` is the deployment `pulumi stack import` takes (the backup itself
    it refuses). It is read before any recovery step, as every write moves it on."""
    if backup is None:
        return "no readable checkpoint backup to restore"
    restored = pulumi.folder / f"{stack}-restored.json"
    restored.write_text(
        json.dumps({"version": backup["version"], "deployment": backup["checkpoint"]["latest"]})
    )
    done = pulumi.run("stack", "import", "--file", str(restored), "--stack", stack,
                      event_log=False)  # fmt: skip
    return f"pulumi stack import of the backup's deployment (exit {done.returncode})"


def _backup(pulumi: engine.Engine) -> dict[str, Any] | None:
    try:
        return dict(json.loads(_checkpoint(pulumi, ".bak").read_text()))
    except (ValueError, OSError):
        return None


def fault(
    name: str,
    pulumi: engine.Engine,
    plane: controlplane.ControlPlane,
    stack: str,
    program: Callable[[], None],
    pack: list[str],
) -> dict[str, Any]:
    inject = FAULTS[name]
    what: list[str] = []
    hit_at: list[float] = []
    below: list[int] = []

    def during(proc: subprocess.Popen[str], log: Path | None) -> None:
        end = time.monotonic() + 300
        while _done(log) < HIT_AFTER and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.1)
        if proc.poll() is None:
            hit_at.append(time.monotonic())
            # Taken before the fault: a killed CLI's plugins are re-parented and lost to view.
            below.extend(engine.descendants(proc.pid))
            what.append(inject(proc, plane, pulumi))

    # --skip-preview: the fault lands in the update itself, not in the preview `up` starts with.
    up = pulumi.run(
        "up", "--yes", "--skip-preview", "--stack", stack, *pack, program=program, during=during
    )
    # Whatever the CLI left of its plugins (SIGKILL leaves them running) goes now.
    leftovers = _leftovers(below)
    outcome: dict[str, Any] = {
        "fault": what[0] if what else "not injected: the update ended first",
        "exit": up.returncode,
        "done_before_fault": HIT_AFTER,
        "error": (up.diagnostics() or up.stderr.strip().splitlines() or [""])[-1][:300],
        "orphaned_plugins": leftovers,
        "pending_operations": _pending(pulumi),
        "objects_live": len(live.ours(plane.kubeconfig)),
    }
    steps: list[str] = []
    backup = _backup(pulumi)
    for _ in range(4):
        again = pulumi.run("up", "--yes", "--stack", stack, *pack, program=program)
        text = again.stdout + again.stderr
        if again.returncode == 0:
            steps.append("pulumi up --yes")
            break
        if "failed to load checkpoint" in text:
            steps.append(_restore_backup(pulumi, stack, backup))
        elif "locked" in text:
            steps.append("pulumi cancel --yes (stale lock of the killed run)")
            pulumi.run("cancel", "--yes", "--stack", stack, event_log=False)
        elif "pending" in text:
            steps.append("pulumi refresh --yes --clear-pending-creates")
            pulumi.run("refresh", "--yes", "--clear-pending-creates", "--stack", stack)
        else:
            steps.append(f"pulumi up failed: {(again.diagnostics() or [text])[-1][:200]}")
    clean = pulumi.run("preview", "--expect-no-changes", "--stack", stack, *pack, program=program)
    outcome |= {
        "recovery": steps,
        "clean_preview": clean.returncode == 0,
        "seconds_to_clean": round(time.monotonic() - hit_at[0], 1) if hit_at else None,
    }
    down = pulumi.run("destroy", "--yes", "--stack", stack)
    outcome["reset"] = down.returncode == 0
    return outcome


def _leftovers(pids: list[int]) -> list[str]:
    """The run's plugins still alive after the CLI ended (a SIGKILL leaves them), then stopped."""
    left: list[str] = []
    for pid in pids:
        with contextlib.suppress(OSError):
            raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            os.kill(pid, signal.SIGKILL)
            left.append(raw.decode(errors="replace").strip()[:120])
    return left
