"""Measures that need a fresh process each: `python -m bench.probes program STACK_FILE` (resource
registration alone), `python -m bench.probes ops STACK_FILE` (how many function calls a plan's
own process makes) and `python -m bench.probes k8s-policies RESOURCES_JSON` (the pack over the
Kubernetes objects of a synth). Each prints one JSON line."""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from infra.stack import load_stack
from infractl.policy.check import run_check
from infractl.stackfile import read_stack_file
from infractl.synth.capture import Captured
from infractl.synth.harness import SynthResult, run_program

REPO = Path(__file__).resolve().parents[1]


def program(stack_file: Path) -> dict[str, float]:
    import infra.program  # noqa: F401 - import cost is per process, not per resource

    loaded = read_stack_file(stack_file)
    config = load_stack(stack_file.name, loaded.config, stack="prod")
    started = time.perf_counter()
    run_program("prod", loaded, config)
    return {"seconds": time.perf_counter() - started}


def operations(stack_file: Path) -> dict[str, float]:
    """Python and C function calls, in every thread, of what a plan does in its own process for
    this stack: the program under the capturing monitor, the pack's requests, the output files.
    A count, not a time: the same at any machine load, so a test can compare two sizes."""
    import infra.program  # noqa: F401 - imports are per process, not per resource
    from infractl.policy.requests import analyze_requests, analyze_stack_request
    from infractl.synth.render import render

    loaded = read_stack_file(stack_file)
    config = load_stack(stack_file.name, loaded.config, stack="prod")
    calls = itertools.count()  # next() is atomic under the GIL: no lost counts across threads

    def count(frame: Any, event: str, arg: Any) -> None:
        if event in ("call", "c_call"):
            next(calls)

    threading.setprofile(count)
    sys.setprofile(count)
    result = run_program("prod", loaded, config)
    analyze_requests(result.resources)
    analyze_stack_request(result.resources)
    render(result)
    sys.setprofile(None)
    threading.setprofile(None)
    return {"calls": next(calls), "resources": len(result.resources)}


def kubernetes_policies(resources_json: Path) -> dict[str, float]:
    prod = REPO / "Pulumi.prod.yaml"
    config = load_stack(prod.name, read_stack_file(prod).config, stack="prod")
    captured = [
        Captured.from_json(r)
        for r in json.loads(resources_json.read_text())
        if r["type"].startswith("kubernetes:")
    ]
    started = time.perf_counter()
    result = run_check(
        SynthResult("prod", config, captured),
        REPO / "policies",
        REPO / "policies/config/prod.json",
        {},
        [],
    )
    return {
        "whole": time.perf_counter() - started,
        "analyze": result.analyzer["seconds"]["analyze"],
    }


if __name__ == "__main__":
    probe, path = sys.argv[1], Path(sys.argv[2])
    probes = {"program": program, "ops": operations, "k8s-policies": kubernetes_policies}
    print(json.dumps(probes[probe](path)))
