"""The inner loop: `make plan` against its floor, `infractl check --from` and `check --watch`'s
save to verdict against checkov, and the start-up of the commands that do not run the program.
Every figure is a median of 5, taken in one run, so the ratios compare like with like on a
machine whose speed varies."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.measure import measure, succeeded
from bench.stacks import REPO
from bench.watching import Watch

PY = sys.executable
INFRACTL = [PY, "-m", "infractl.cli"]
RUNS = 5
# The provider SDKs (and the Pulumi SDK they stand on); the floor imports what the program
# imports of these and nothing of the project.
SDKS = ("pulumi", "pulumi_kubernetes", "pulumi_github", "pulumi_docker")
EVENTS = REPO / "vendor/pulumi-engine-outputs"
PREVIEW_LOG = (
    EVENTS / "pulumi-lifecycle-TestSimpleAnalyzeResourceMultipleViolations--eventstream.json"
)
REFRESH_LOG = EVENTS / "pulumi-lifecycle-TestRefreshBasics-all-0-0-preview--eventstream.json"


def _median_seconds(command: list[str], runs: int = RUNS) -> float:
    return round(
        statistics.median(
            succeeded(measure(command, cwd=str(REPO)), command)["seconds"] for _ in range(runs)
        ),
        3,
    )


def sdk_modules() -> list[str]:
    """The SDK modules a run of the program imports, learnt from a fresh process."""
    code = (
        "import json, sys\n"
        "import infra.program\n"
        "import pulumi.runtime.mocks  # the offline synth runs the program under the mocks\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {SDKS!r})))\n"
    )
    out = subprocess.run([PY, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout))


def _announce_seconds() -> float:
    """From starting the pack's process to its port announcement."""
    from infractl.policy.analyzer import running_pack

    started = time.perf_counter()
    with running_pack(REPO / "policies", project="bench", stack="bench", config={}) as pack:
        pack.stub  # noqa: B018 - reading the port is what is timed
        return time.perf_counter() - started


def checkov_command(kubernetes: Path) -> list[str]:
    checkov = os.environ.get("CHECKOV") or str(REPO / ".tools/checkov/bin/checkov")
    return [checkov, "-d", str(kubernetes), "--framework", "kubernetes", "--skip-download",
            "--quiet", "--compact"]  # fmt: skip


def checkov_seconds(kubernetes: Path, runs: int = RUNS) -> float:
    return _median_seconds(checkov_command(kubernetes), runs)


def import_costs(top: int = 10) -> list[dict[str, Any]]:
    """`python -X importtime` of the program: the modules that cost most on their own."""
    proc = subprocess.run(
        [PY, "-X", "importtime", "-c", "import infra.program"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = []
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            rows.append({"module": match[4], "self_ms": int(match[1]) // 1000,
                         "cumulative_ms": int(match[2]) // 1000})  # fmt: skip
    return sorted(rows, key=lambda r: r["self_ms"], reverse=True)[:top]


STACKS = ("staging", "prod")


def inner_loop(folder: Path) -> dict[str, Any]:
    """Each round measures every figure once, in turn, so a change in the machine's load during
    the run touches all of them alike; the figures are medians over the rounds."""
    modules = sdk_modules()
    prod = folder / "plan" / "prod"
    commands = {
        "floor imports": [PY, "-c", "import " + ", ".join(modules)],
        "plan staging": ["make", "-s", "plan", "STACK=staging", f"OUT={folder / 'plan/staging'}"],
        "plan prod": ["make", "-s", "plan", "STACK=prod", f"OUT={prod}"],
        "check --from": [*INFRACTL, "check", "--stack", "prod", "--from", str(prod)],
        "checkov": checkov_command(prod / "kubernetes"),
        "--help": [*INFRACTL, "--help"],
        "preview-report": [
            *INFRACTL, "preview-report", "--event-log", str(PREVIEW_LOG), "--stack", "dev"
        ],
        "drift --input": [*INFRACTL, "drift", "--stack", "prod", "--input", str(REFRESH_LOG)],
    }  # fmt: skip
    watches = {stack: Watch(folder, stack) for stack in STACKS}
    names = ["floor announce", *commands, *(f"watch {stack}" for stack in watches)]
    names.append("watch prod program")
    samples: dict[str, list[float]] = {name: [] for name in names}
    try:
        for _ in range(RUNS):
            samples["floor announce"].append(_announce_seconds())
            for name, command in commands.items():
                samples[name].append(succeeded(measure(command, cwd=str(REPO)), command)["seconds"])
            for stack, watch in watches.items():
                samples[f"watch {stack}"].append(watch.sample())
        # A program save restarts every watch's worker: staging's would share the cores.
        watches.pop("staging").stop()
        for _ in range(RUNS):
            samples["watch prod program"].append(watches["prod"].sample_program())
    finally:
        for watch in watches.values():
            watch.stop()
    m = {name: round(statistics.median(values), 3) for name, values in samples.items()}
    floor = round(m["floor imports"] + m["floor announce"], 3)
    return {
        "runs": RUNS,
        "floor": {
            "sdk_modules": len(modules),
            "imports_seconds": m["floor imports"],
            "announce_seconds": m["floor announce"],
            "floor_seconds": floor,
        },
        "plan": {stack: m[f"plan {stack}"] for stack in ("staging", "prod")},
        "plan_over_floor": {
            stack: round(m[f"plan {stack}"] / floor, 2) for stack in ("staging", "prod")
        },
        "check_from": {
            "seconds": m["check --from"],
            "checkov_seconds": m["checkov"],
            "checkov_over_check_from": round(m["checkov"] / m["check --from"], 2),
        },
        "watch": {
            "save_to_verdict_seconds": {stack: m[f"watch {stack}"] for stack in STACKS},
            "program_save_to_verdict_seconds": {"prod": m["watch prod program"]},
            "checkov_over_watch_prod": round(m["checkov"] / m["watch prod"], 2),
        },
        "startup": {name: m[name] for name in ("--help", "preview-report", "drift --input")},
        "import_costs": import_costs(),
        "samples": samples,
    }


def report(r: dict[str, Any]) -> str:
    f = r["floor"]
    lines = [
        f"Inner loop (medians of {r['runs']}): floor {f['floor_seconds']:.2f}s = "
        f"{f['sdk_modules']} SDK modules imported {f['imports_seconds']:.2f}s + pack announces "
        f"its port {f['announce_seconds']:.2f}s",
    ]
    for stack, seconds in r["plan"].items():
        lines.append(
            f"  make plan {stack}: {seconds:.2f}s = {r['plan_over_floor'][stack]:.2f}x the floor "
            "(target <= 1.5x)"
        )
    c = r["check_from"]
    lines.append(
        f"  check --from out/prod: {c['seconds']:.2f}s; checkov on its manifests "
        f"{c['checkov_seconds']:.2f}s: {c['checkov_over_check_from']:.1f}x faster (target >= 5x)"
    )
    w = r["watch"]
    lines.append(
        "  check --watch, save to verdict (target <= 0.3s for prod): "
        + ", ".join(f"{stack} {s:.2f}s" for stack, s in w["save_to_verdict_seconds"].items())
        + f"; checkov on prod's manifests {w['checkov_over_watch_prod']:.1f}x slower "
        "(target >= 5x); a program source saved (new worker): prod "
        f"{w['program_save_to_verdict_seconds']['prod']:.2f}s"
    )
    lines.append(
        "  start-up (target <= 0.5s): "
        + ", ".join(f"{name} {seconds:.2f}s" for name, seconds in r["startup"].items())
    )
    lines.append(
        "  costliest imports of the program (self ms): "
        + ", ".join(f"{c['module']} {c['self_ms']}" for c in r["import_costs"][:6])
    )
    return "\n".join(lines)
