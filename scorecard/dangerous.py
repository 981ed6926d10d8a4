"""Dangerous-Workflow: untrusted checkout under pull_request_target/workflow_run, and script
injection of attacker-controlled context into `run:`.

Raw data follows checks/raw/dangerous_workflow.go (validateUntrustedCodeCheckout,
checkVariablesInScript, containsUntrustedContextPattern); the score follows
checks/evaluation/dangerous_workflow.go (DangerousWorkflow): any finding scores 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scorecard.result import INCONCLUSIVE, MAX_SCORE, CheckResult
from scorecard.workflow import Workflow

NAME = "Dangerous-Workflow"
FOLLOWS = "checks/evaluation/dangerous_workflow.go DangerousWorkflow"

_UNTRUSTED = re.compile(
    r".*(issue\.title|issue\.body|pull_request\.title|pull_request\.body|discussion\.title|"
    r"discussion\.body|comment\.body|review\.body|review_comment\.body|pages.*\.page_name|"
    r"commits.*\.message|head_commit\.message|head_commit\.author\.email|"
    r"head_commit\.author\.name|commits.*\.author\.email|commits.*\.author\.name|"
    r"blocked_user\.name|blocked_user\.email|pull_request\.head\.ref|pull_request\.head\.label|"
    r"pull_request\.head\.repo\.default_branch).*"
)
_TOJSON = re.compile(r"tojson\s*\(\s*github(\.event)?\s*\)", re.I)


def untrusted_context(expression: str) -> bool:
    if "github.head_ref" in expression or _TOJSON.search(expression):
        return True
    return "github.event." in expression and _UNTRUSTED.match(expression) is not None


@dataclass
class DangerousData:
    workflows: int = 0
    findings: list[str] = field(default_factory=list)


def collect(workflow: Workflow, data: DangerousData) -> None:
    data.workflows += 1
    if {"pull_request_target", "workflow_run"} & set(workflow.triggers):
        for job in workflow.jobs:
            for step in job.steps:
                ref = step.inputs.get("ref", "")
                if (
                    step.uses
                    and "actions/checkout" in step.uses
                    and ("github.event.pull_request" in ref or "github.event.workflow_run" in ref)
                ):
                    data.findings.append(f"{workflow.path}: untrusted code checkout '{ref}'")
    for job in workflow.jobs:
        for step in job.steps:
            script = step.run or ""
            while (start := script.find("${{")) != -1:
                end = script.find("}}", start)
                if end == -1:
                    break
                expression = script[start + 3 : end]
                if untrusted_context(expression):
                    data.findings.append(
                        f"{workflow.path}: script injection '{expression.strip()}'"
                    )
                script = script[end:]


def evaluate(data: DangerousData) -> CheckResult:
    if data.workflows == 0:
        return CheckResult(NAME, INCONCLUSIVE, "no workflows found", FOLLOWS)
    if data.findings:
        return CheckResult(
            NAME,
            0,
            "dangerous workflow patterns detected",
            FOLLOWS,
            data.findings,
            [
                "pass untrusted context through `env:`; "
                "never check out PR code in privileged triggers"
            ],
        )
    return CheckResult(NAME, MAX_SCORE, "no dangerous workflow patterns detected", FOLLOWS)
