"""`make bench`, real-engine part: what the real `pulumi preview` and `up` of this program cost on
`make e2e`'s loopback control plane, next to the offline plan of the same settings.

Per stack, in one round each (the order rotates, so no kind always runs on a warmer machine):
a no-change preview with the policy pack attached and one without (the pack's cost under the
engine), and `infractl check` of the same settings (the offline plan). Before those, `pulumi up`
on the empty cluster and the first no-change preview. Then synthetic prod stacks with more
services (bench/stacks.py) through a preview on an empty cluster, next to their offline synth:
how each grows per resource, and its memory (the CLI, its plugins and the program, summed).

Needs the e2e binaries (`make e2e-tools`); without them it prints one line saying so and exits 0.
Writes bench/results/<UTC time>-engine.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench import record
from bench.measure import measure, succeeded
from bench.stacks import REPO, synthetic_stack
from e2e import controlplane, engine, live, recorded, stacks
from e2e.programs import program
from e2e.tools import BIN

ROUNDS = record.count_from_env("BENCH_ENGINE_ROUNDS", 3)
# Services of the synthetic stacks (no repositories: the GitHub provider cannot be built here).
SERVICES = (1, 10, 40)
NEEDED = (
    "pulumi",
    "pulumi-resource-kubernetes",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
)
INFRACTL = [str(REPO / ".venv" / "bin" / "infractl")]


def missing() -> list[str]:
    return [name for name in NEEDED if not (BIN / name).is_file()]


def _pack(stack: str) -> list[str]:
    config = REPO / "policies" / "config" / f"{stack}.json"
    return ["--policy-pack", str(engine.PACK), "--policy-pack-config", str(config)]


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _program_hosts() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"e2e.program_host" in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class PeakMemory:
    """Samples the summed RSS of the CLI, its plugins and the program host while a run lasts."""

    def __init__(self) -> None:
        self.peak_kib = 0

    def __call__(self, proc: subprocess.Popen[str], _log: Path | None) -> None:
        while proc.poll() is None:
            pids = {proc.pid, *engine.descendants(proc.pid), *_program_hosts()}
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(p) for p in pids))
            time.sleep(0.2)

    @property
    def mib(self) -> float:
        return round(self.peak_kib / 1024, 1)


def _timed(pulumi: engine.Engine, *args: str, changes: str | None = None) -> dict[str, Any]:
    memory = PeakMemory()
    result = pulumi.run(*args, program=program, during=memory)
    summary = result.summary()
    if result.returncode != 0 or (changes is not None and set(summary) != {changes}):
        raise RuntimeError(
            f"`pulumi {' '.join(args[:3])}` exit {result.returncode} {summary}: "
            f"{(result.diagnostics() or result.stderr.strip().splitlines() or [''])[-1][:500]}"
        )
    return {
        "seconds": round(result.seconds, 3),
        "peak_mib": memory.mib,
        "resources": sum(summary.values()),
    }


def _pack_start(stack: str) -> float:
    """Seconds from starting the pack as the engine does to its port: the part of the pack's
    cost the engine waits for before the program runs (the rest is its answers)."""
    from infractl.policy.analyzer import running_pack
    from infractl.project import PROJECT

    with running_pack(REPO / "policies", project=PROJECT, stack=stack, config={}) as pack:
        assert pack.stub is not None  # waits for the port
        return pack.waited


def _offline(command: str, stack: str, settings: Path, out: Path) -> dict[str, Any]:
    argv = [*INFRACTL, command, "--stack", stack, "--config-file", str(settings), "--out", str(out)]
    return succeeded(measure(argv, cwd=str(REPO)), argv)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def _settings(folder: Path, stack: str, document: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    """The stack as `make e2e` deploys it, also written where `infractl` reads it."""
    settings = stacks.deployable(document)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    return path, settings


def stack_figures(stack: str, folder: Path) -> dict[str, Any]:
    document = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    path, settings = _settings(folder, stack, document)
    with controlplane.running(folder / "cluster") as plane:
        pulumi = engine.Engine(folder / "engine", plane.kubeconfig)
        pulumi.init_stack(stack, settings)
        pulumi.register_provider()
        live.provide(plane.kubeconfig, stacks.CLUSTER_PROVIDES[stack])
        pack = _pack(stack)
        up = _timed(pulumi, "up", "--yes", "--stack", stack, *pack, changes="create")
        first = _timed(pulumi, "preview", "--stack", stack, *pack, changes="same")
        kinds: dict[str, Callable[[], float]] = {
            "preview_with_pack": lambda: _timed(
                pulumi, "preview", "--stack", stack, *pack, changes="same"
            )["seconds"],
            "preview_without_pack": lambda: _timed(
                pulumi, "preview", "--stack", stack, changes="same"
            )["seconds"],
            "offline_plan": lambda: float(
                _offline("check", stack, path, folder / "plan")["seconds"]
            ),
            "pack_start": lambda: _pack_start(stack),
        }
        runs: dict[str, list[float]] = {name: [] for name in kinds}
        names = list(kinds)
        for round_ in range(ROUNDS):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                runs[name].append(kinds[name]())
    medians = {name: _median(values) for name, values in runs.items()}
    return {
        "resources": up["resources"],
        "up_empty_cluster": up,
        "first_no_change_preview": first,
        **medians,
        "pack_cost_ratio": round(medians["preview_with_pack"] / medians["preview_without_pack"], 2),
        "preview_over_offline_plan": round(
            medians["preview_with_pack"] / medians["offline_plan"], 1
        ),
    }


def scale_row(services: int, folder: Path) -> dict[str, Any]:
    stack = f"bench-0r-{services}s"
    path, settings = _settings(folder, stack, synthetic_stack(0, services))
    with controlplane.running(folder / "cluster") as plane:
        pulumi = engine.Engine(folder / "engine", plane.kubeconfig)
        pulumi.init_stack(stack, settings)
        pulumi.register_provider()
        preview = _timed(pulumi, "preview", "--stack", stack, changes="create")
    synth = _offline("synth", stack, path, folder / "synth")
    resources = len(json.loads((folder / "synth" / "resources.json").read_text()))
    return {
        "services": services,
        "resources": resources,
        "engine_resources": preview["resources"],
        "preview": preview,
        "synth": synth,
        "preview_ms_per_resource": round(1000 * preview["seconds"] / preview["resources"], 1),
        "synth_ms_per_resource": round(1000 * float(synth["seconds"]) / resources, 1),
    }


def _start(figures: dict[str, Any]) -> str:
    # Results recorded before the pack's start-up was measured do not have it.
    start = figures.get("pack_start")
    return "" if start is None else f"; its start-up {start:.2f}s"


def report(result: dict[str, Any]) -> str:
    lines = ["Real engine on the e2e control plane (medians of "
             f"{result['rounds']} interleaved rounds):"]  # fmt: skip
    for stack, f in result["stacks"].items():
        lines.append(
            f"  {stack}: {f['resources']} resources; up on an empty cluster "
            f"{f['up_empty_cluster']['seconds']:.1f}s, first no-change preview "
            f"{f['first_no_change_preview']['seconds']:.1f}s; no-change preview with the pack "
            f"{f['preview_with_pack']:.2f}s, without {f['preview_without_pack']:.2f}s "
            f"(pack {f['pack_cost_ratio']}x, target <= 1.2x{_start(f)}); offline plan "
            f"{f['offline_plan']:.2f}s (preview/plan {f['preview_over_offline_plan']}x, "
            "target >= 5x)"
        )
    head = f"{'svcs':>4} {'resources':>9} | {'preview s':>9} {'ms/res':>6} {'MiB':>6} | " + (
        f"{'synth s':>7} {'ms/res':>6} {'MiB':>6}"
    )
    lines += ["", "Preview on an empty cluster vs offline synth, synthetic prod stacks:", head]
    for r in result["scale"]:
        lines.append(
            f"{r['services']:>4} {r['resources']:>9} | {r['preview']['seconds']:>9.2f} "
            f"{r['preview_ms_per_resource']:>6.1f} {r['preview']['peak_mib']:>6.0f} | "
            f"{r['synth']['seconds']:>7.2f} {r['synth_ms_per_resource']:>6.1f} "
            f"{r['synth']['peak_mib']:>6.0f}"
        )
    return "\n".join(lines)


def main() -> int:
    if os.environ.get("BENCH_ONLY"):  # `make bench BENCH_ONLY=inner|scale` runs that part alone
        return 0
    absent = missing()
    if absent:
        print(f"bench: real-engine figures skipped: {', '.join(absent)} not built "
              "(`make e2e-tools` builds them from their Go modules)")  # fmt: skip
        return 0
    started = time.perf_counter()
    tests_before = recorded.snapshot()
    os.environ.update(stacks.SECRET_ENV)
    with tempfile.TemporaryDirectory(prefix="tbcoin-bench-engine-") as tmp:
        folder = Path(tmp)
        figures = {s: stack_figures(s, folder / s) for s in ("staging", "prod")}
        scale = [scale_row(n, folder / f"scale-{n}") for n in SERVICES]
    result = {
        **record.started(),
        "rounds": ROUNDS,
        "versions": engine.versions(),
        "stacks": figures,
        "scale": scale,
        "bench_seconds": round(time.perf_counter() - started, 1),
    }
    print(report(result))
    print(f"{result['when']}; cores: {result['cores']}; real-engine bench: "
          f"{result['bench_seconds']}s")  # fmt: skip
    return record.save(result, tests_before, "-engine")


if __name__ == "__main__":
    sys.exit(main())
