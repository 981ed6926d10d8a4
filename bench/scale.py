"""The offline plan (`infractl check --out`, as `make plan` runs it) of prod governing N synthetic
repositories: wall and CPU seconds, peak memory, cost per resource, and the growth exponent
between the smallest and the largest size, against the targets of issue 36. A size whose run
fails or overruns BENCH_PLAN_TIMEOUT is reported as such, with no figures."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from bench.measure import OK, check_verdict, measure
from bench.record import seconds_from_env
from bench.stacks import REPO, write_stack

REPOSITORIES = (100, 200, 500, 1000)
# Targets at the largest size (issue 36): an offline plan of 1,000 repositories.
TARGET_SECONDS = 90.0
TARGET_MIB = 2048.0
# Seconds grow at most like resources^1.1 between the smallest and the largest size.
TARGET_EXPONENT = 1.1


def plan_row(folder: Path, repositories: int, timeout: float) -> dict[str, Any]:
    stack = write_stack(folder, repositories, 1)
    out = folder / f"plan-{repositories}"
    command = [
        *(sys.executable, "-m", "infractl.cli", "check", "--stack", "prod", "--format", "json"),
        *("--config-file", str(stack), "--out", str(out), "--timeout", str(timeout)),
    ]
    result = measure(command, cwd=str(REPO), timeout=timeout, verdict=check_verdict)
    row: dict[str, Any] = {"repositories": repositories, **result}
    if result["status"] == OK:
        resources = len(json.loads((out / "resources.json").read_text()))
        row["resources"] = resources
        row["ms_per_resource"] = round(1000 * result["seconds"] / resources, 2)
        row["cpu_ms_per_resource"] = round(1000 * result["cpu_seconds"] / resources, 2)
    return row


def exponent(rows: list[dict[str, Any]], key: str = "seconds") -> float | None:
    """d log(key) / d log(resources) between the smallest and the largest size; None unless both
    runs succeeded."""
    small, large = rows[0], rows[-1]
    if small["status"] != OK or large["status"] != OK:
        return None
    return round(
        math.log(large[key] / small[key]) / math.log(large["resources"] / small["resources"]), 3
    )


def scale(folder: Path) -> dict[str, Any]:
    timeout = seconds_from_env("BENCH_PLAN_TIMEOUT", 600.0)
    rows = [plan_row(folder, n, timeout) for n in REPOSITORIES]
    return {
        "timeout_seconds": timeout,
        "rows": rows,
        "exponent": exponent(rows),
        "cpu_exponent": exponent(rows, "cpu_seconds"),
        "targets": {
            "repositories": REPOSITORIES[-1],
            "seconds": TARGET_SECONDS,
            "peak_mib": TARGET_MIB,
            "exponent": TARGET_EXPONENT,
        },
    }


def _verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value <= limit else "NOT met"


def report(result: dict[str, Any]) -> str:
    """The table and the verdict on each target, as `make bench` prints it."""
    head = (
        f"{'repos':>5} {'resources':>9} | {'seconds':>8} {'MiB':>6} {'ms/res':>7} | "
        f"{'CPU s':>7} {'CPU ms/res':>10}"
    )
    lines = ["Offline plan of prod with N synthetic repositories (infractl check --out):", head,
             "-" * len(head)]  # fmt: skip
    for r in result["rows"]:
        if r["status"] != OK:
            lines.append(f"{r['repositories']:>5} {'-':>9} | {r['status']}")
            continue
        lines.append(
            f"{r['repositories']:>5} {r['resources']:>9} | {r['seconds']:>8.1f} "
            f"{r['peak_mib']:>6.0f} {r['ms_per_resource']:>7.2f} | {r['cpu_seconds']:>7.1f} "
            f"{r['cpu_ms_per_resource']:>10.2f}"
        )
    t = result["targets"]
    largest = result["rows"][-1]
    done = largest["status"] == OK
    seconds = largest["seconds"] if done else None
    mib = largest["peak_mib"] if done else None
    first = result["rows"][0]["repositories"]
    growth = result["exponent"]
    lines += [
        f"growth exponent {first}->{largest['repositories']} repositories: "
        + (f"{growth:.3f} (CPU {result['cpu_exponent']:.3f})" if growth is not None else "-")
        + f", target <= {t['exponent']}: {_verdict(growth, t['exponent'])}",
        f"{t['repositories']} repositories: "
        + (f"{seconds:.1f} s" if done else largest["status"])
        + f", target <= {t['seconds']:.0f} s: {_verdict(seconds, t['seconds'])}; "
        + (f"{mib:.0f} MiB" if done else "-")
        + f", target <= {t['peak_mib']:.0f} MiB: {_verdict(mib, t['peak_mib'])}",
    ]
    return "\n".join(lines)
