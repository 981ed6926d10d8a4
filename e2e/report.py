"""What a scenario's run keeps: each engine command's exit, changes and seconds (and, when it
failed, the end of its output: the run's folder is removed after the run), each check that failed,
and each step's outcome. Written to out/e2e/report.json by e2e/run.py."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e2e import engine
from e2e.tools import ROOT

REPORT = ROOT / "out" / "e2e" / "report.json"
# Every step's real event log, as `infractl` reads them; `--record` keeps some for `make test`.
OUTPUTS = ROOT / "out" / "e2e" / "engine-outputs"
# pulumi_policy's advisory for a policy that read a value unknown in preview, and the pack's own
# mandatory outcome for one it needs (policies/tbcoin_policies/common.py).
UNJUDGED = ("can't run policy", "Cannot be checked before apply")
# The controller's Rollout at each stage of a release; `--record` keeps them for `make test`.
ROLLOUT_STAGES = OUTPUTS / "rollouts"


def keep_stage(stack: str, service: str, name: str, document: dict[str, Any]) -> None:
    """One stage of a release (the controller's Rollout or AnalysisRun) under ROLLOUT_STAGES."""
    ROLLOUT_STAGES.mkdir(parents=True, exist_ok=True)
    path = ROLLOUT_STAGES / f"{stack}-{service}-{name}.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


# How much of a failed command's output the report keeps: the error is at the end.
OUTPUT_LINES = 40


def output_tail(result: engine.Result) -> list[str]:
    """The engine's error diagnostics and the last lines of stdout and stderr."""
    lines = [*result.diagnostics(), *result.stdout.splitlines(), *result.stderr.splitlines()]
    kept = [line.rstrip()[:400] for line in lines if line.strip()]
    return kept[-OUTPUT_LINES:]


def errors(result: engine.Result) -> str:
    """A failed command's error in one line, for a check's message."""
    lines = result.diagnostics() or result.stderr.strip().splitlines()[-5:]
    return " | ".join(line.strip()[:400] for line in lines[-8:])


@dataclass
class StackReport:
    """One scenario's record: `steps` by engine command or check name, `outcomes` by step."""

    scenario: str
    stack: str
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    passed: int = 0
    # A step the harness could not run (exit 2): the report is still written.
    harness_errors: list[str] = field(default_factory=list)

    def event_log(self, name: str) -> Path:
        """Where the event log of the engine command recorded as `name` is kept."""
        return OUTPUTS / f"{self.scenario}-{name}.jsonl"

    def step(self, name: str, result: engine.Result, **extra: Any) -> None:
        if result.event_log is not None and result.event_log.is_file():
            OUTPUTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(result.event_log, self.event_log(name))
        self.steps[name] = {
            "exit": result.returncode,
            "changes": result.summary(),
            "seconds": round(result.seconds, 1),
            **extra,
        }
        if result.returncode != 0:
            self.steps[name]["output"] = output_tail(result)
        # Every policy must run under the real engine: a skipped one gates nothing.
        unjudged = [m for m in result.policy_messages() if any(u in m for u in UNJUDGED)]
        self.check(not unjudged, f"{name}: a policy did not judge the real preview: {unjudged}")

    def check(self, ok: bool, message: str) -> bool:
        self.passed += ok
        if not ok:
            self.failures.append(message)
            print(f"e2e: {self.scenario}: FAIL {message}", file=sys.stderr, flush=True)
        return ok

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "outcomes": self.outcomes,
            "failures": self.failures,
            "steps": self.steps,
        }
