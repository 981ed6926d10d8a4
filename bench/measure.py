"""Run a command and report its wall time and peak memory (largest RSS of it or a child it waited
for), as one JSON line: `python -m bench.measure -- CMD ...`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def measure(command: list[str], cwd: str | None = None) -> dict[str, float | int]:
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{command[:4]} failed ({process.returncode}): {stderr[-1500:]}")
    return {"seconds": round(wall, 3), "peak_mib": round(usage.ru_maxrss / 1024, 1)}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[sys.argv.index("--") + 1 :])))
