"""Run a command and report its wall time, CPU time and peak memory (largest RSS of it or a child
it waited for), as one JSON line: `python -m bench.measure -- CMD ...`.

A run that fails or overruns its time says so (`status`), never a time: a crash that exits 1
looks like a check with violations by its exit code alone, so a caller that accepts 1 also
names what the output must hold (`verdict`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

OK = "ok"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def measure(
    command: list[str],
    cwd: str | None = None,
    *,
    timeout: float | None = None,
    verdict: Callable[[str], bool] | None = None,
) -> dict[str, Any]:
    """`status` is "ok", "failed: <its last line>" or "timed out after N s". Exit 0 is a success;
    exit 1 only when `verdict` accepts the command's standard output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        deadline = None if timeout is None else started + timeout
        status: str | None = None
        while True:
            pid, code, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                _, code, usage = os.wait4(process.pid, 0)
                status = f"timed out after {timeout:g} s"
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(code)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if status is None:
        accepted = process.returncode == 0 or (
            process.returncode == 1 and verdict is not None and verdict(stdout)
        )
        status = OK if accepted else f"failed: exit {process.returncode}: {_last_line(stderr)}"
    return {
        "status": status,
        "seconds": round(wall, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_mib": round(usage.ru_maxrss / 1024, 1),
    }


def succeeded(result: dict[str, Any], command: list[str]) -> dict[str, Any]:
    """The measure of a run that must succeed: a failure or overrun stops the bench, naming it."""
    if result["status"] != OK:
        raise RuntimeError(f"{' '.join(command[:6])}: {result['status']}")
    return result


def check_verdict(stdout: str) -> bool:
    """`infractl check --format json` printed a verdict (violations found is a verdict too)."""
    try:
        report = json.loads(stdout)
    except ValueError:
        return False
    return isinstance(report, dict) and "violations" in report


if __name__ == "__main__":
    command = sys.argv[sys.argv.index("--") + 1 :]
    print(json.dumps(succeeded(measure(command), command)))
