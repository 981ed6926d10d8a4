"""Timings that need a fresh process each: `python -m bench.probes program STACK_FILE` (resource
registration alone) and `python -m bench.probes k8s-policies RESOURCES_JSON` (the pack over the
Kubernetes objects of a synth). Each prints one JSON line."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

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
    print(json.dumps(program(path) if probe == "program" else kubernetes_policies(path)))
