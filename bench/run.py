"""`make bench`: the inner loop (`make plan` against its floor, `check --from` against checkov,
command start-up; see bench/inner.py), synth and policy-check times and peak memory at several
sizes, the bare-SDK floor for the same resources, and the policy evaluation against checkov on
the same manifests.

Prints a table and writes bench/results/<UTC time>.json. Not part of `make test`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import record
from bench.inner import checkov_seconds, inner_loop
from bench.inner import report as inner_report
from bench.measure import check_verdict, measure, succeeded
from bench.scale import report as scale_report
from bench.scale import scale
from bench.stacks import REPO, write_stack
from e2e import recorded

PY = sys.executable
INFRACTL = [PY, "-m", "infractl.cli"]
# Repositories beyond 100 are bench/scale.py's (the offline plan up to 1,000 repositories).
SIZES = [(1, 1), (10, 1), (100, 1), (1, 10), (1, 50)]
REPEATS = record.count_from_env("BENCH_REPEATS", 3)
# BENCH_ONLY=inner: the inner-loop figures alone (about a minute); BENCH_ONLY=scale: the offline
# plan at 100 to 1,000 repositories alone (bench/scale.py).
ONLY = os.environ.get("BENCH_ONLY", "")
if ONLY not in ("", "inner", "scale"):
    raise SystemExit(f"bench: BENCH_ONLY must be inner or scale (got {ONLY!r})")


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


def _repeat(command: list[str], times: int) -> dict[str, float]:
    # `check` exits 1 for violations, as a crash does: only its printed verdict tells them apart.
    verdict = check_verdict if "check" in command else None
    runs = [
        succeeded(measure(command, cwd=str(REPO), verdict=verdict), command) for _ in range(times)
    ]
    return {"seconds": _median(runs, "seconds"), "peak_mib": _median(runs, "peak_mib")}


def size_row(folder: Path, repos: int, services: int) -> dict[str, Any]:
    stack = write_stack(folder, repos, services)
    out = folder / f"out-{repos}-{services}"
    times = REPEATS if repos * services <= 100 else 1
    synth = _repeat(
        [*INFRACTL, "synth", "--stack", "prod", "--config-file", str(stack), "--out", str(out)],
        times,
    )
    check = _repeat(
        [*INFRACTL, "check", "--stack", "prod", "--format", "json", "--config-file", str(stack)],
        times,
    )
    resources = len(json.loads((out / "resources.json").read_text()))
    floor = statistics.median(
        float(subprocess.run([PY, "-m", "bench.floor", str(out / "resources.json")], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout)
        for _ in range(times)
    )  # fmt: skip
    program = _program_seconds(stack, times)
    return {
        "repositories": repos,
        "services": services,
        "resources": resources,
        "runs": times,
        "synth": synth,
        "check": check,
        "program_seconds": program,
        "floor_seconds": round(floor, 3),
        "program_to_floor": round(program / floor, 2),
    }


def _probe(name: str, path: Path) -> dict[str, float]:
    proc = subprocess.run(
        [PY, "-m", "bench.probes", name, str(path)], cwd=REPO, capture_output=True, text=True
    )
    if proc.returncode:
        raise RuntimeError(f"bench.probes {name} failed: {proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout))


def _program_seconds(stack: Path, times: int) -> float:
    """Registration alone (what the floor measures), without imports, config parse or output."""
    return round(statistics.median(_probe("program", stack)["seconds"] for _ in range(times)), 3)


def checkov_comparison(folder: Path, runs: int = 5) -> dict[str, Any]:
    """The pack's Kubernetes policies vs checkov, on the same rendered prod manifests."""
    out = folder / "prod"
    subprocess.run([*INFRACTL, "synth", "--stack", "prod", "--out", str(out)], cwd=REPO,
                   check=True, capture_output=True)  # fmt: skip
    checkov_s = checkov_seconds(out / "kubernetes", runs)
    ours = [_kubernetes_policy_seconds(out) for _ in range(runs)]
    whole = statistics.median(o["whole"] for o in ours)
    analyze = statistics.median(o["analyze"] for o in ours)
    return {
        "objects": len(list((out / "kubernetes").rglob("*.yaml"))),
        "checkov_seconds": round(checkov_s, 3),
        "pack_seconds_with_start": round(whole, 3),
        "pack_analyze_seconds": round(analyze, 3),
        "checkov_over_pack_with_start": round(checkov_s / whole, 1),
        "checkov_over_pack_analyze": round(checkov_s / analyze, 1),
    }


def _kubernetes_policy_seconds(out: Path) -> dict[str, float]:
    return _probe("k8s-policies", out / "resources.json")


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'repos':>5} {'svcs':>4} {'resources':>9} | {'synth s':>8} {'MiB':>6} | "
        f"{'check s':>8} {'MiB':>6} | {'program s':>9} {'floor s':>8} {'ratio':>5}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['repositories']:>5} {r['services']:>4} {r['resources']:>9} | "
            f"{r['synth']['seconds']:>8.2f} {r['synth']['peak_mib']:>6.0f} | "
            f"{r['check']['seconds']:>8.2f} {r['check']['peak_mib']:>6.0f} | "
            f"{r['program_seconds']:>9.2f} {r['floor_seconds']:>8.2f} {r['program_to_floor']:>5.2f}"
        )
    return "\n".join(lines)


def main() -> int:
    started = time.perf_counter()
    tests_before = recorded.snapshot()
    # checkov: no network (no mapping download, no update check).
    os.environ.update(BC_SKIP_MAPPING="TRUE", CKV_SKIP_PACKAGE_UPDATE_CHECK="TRUE")
    with tempfile.TemporaryDirectory(prefix="tbcoin-bench-") as tmp:
        folder = Path(tmp)
        # First, while nothing else of the bench has warmed or loaded the machine differently.
        inner = inner_loop(folder) if ONLY in ("", "inner") else None
        rows = [size_row(folder, r, s) for r, s in SIZES] if ONLY == "" else []
        versus = checkov_comparison(folder) if ONLY == "" else None
        scaled = scale(folder) if ONLY in ("", "scale") else None
    result = {
        **record.started(),
        "python": sys.version.split()[0],
        "repeats": REPEATS,
        "inner_loop": inner,
        "sizes": rows,
        "checkov": versus,
        "scale": scaled,
        "bench_seconds": round(time.perf_counter() - started, 1),
    }
    if rows:
        print(table(rows))
    if versus:
        print(
            f"\nKubernetes policies on {versus['objects']} prod objects: checkov "
            f"{versus['checkov_seconds']:.2f}s, pack {versus['pack_seconds_with_start']:.2f}s "
            f"with its start ({versus['checkov_over_pack_with_start']}x faster), "
            f"{versus['pack_analyze_seconds']:.3f}s evaluating "
            f"({versus['checkov_over_pack_analyze']}x)"
        )
    if inner:
        print(inner_report(inner))
    if scaled:
        print(scale_report(scaled))
    print(f"{result['when']}; cores: {result['cores']}; whole bench: {result['bench_seconds']}s")
    return record.save(result, tests_before)


if __name__ == "__main__":
    sys.exit(main())
