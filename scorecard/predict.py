"""The prediction for every governed repository of a synthesized stack.

Input is the synth's captured resources (plain dicts, as in resources.json): the repository,
its rulesets and its managed files. Nothing here talks to GitHub.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from scorecard import branch_protection, dangerous, permissions, pinned, repo_files
from scorecard.reads import BRANCH_DEFAULT, FILE, REPOSITORY, RULESET
from scorecard.result import CheckResult
from scorecard.source import COMMIT, RISK_WEIGHT, VERSION
from scorecard.workflow import Workflow, WorkflowError, contains_commands, is_workflow_file
from scorecard.workflow import parse_workflow as parse

# Checks that read history or outside services; what bounds them from settings alone.
NOT_PREDICTABLE = {
    "Code-Review": ("share of recent merged changes that were reviewed", 0, 10),
    "CI-Tests": ("share of recent merged PRs with passing CI checks", 0, 10),
    "Maintained": (
        "commits and issue activity in the last 90 days; a repository created in "
        "the last 90 days scores 0",
        0,
        10,
    ),
    "Vulnerabilities": ("open OSV advisories against the dependencies", 0, 10),
    "Contributors": ("contributors' organisations over recent commits", 0, 10),
    "Signed-Releases": (
        "signatures/provenance on the last releases (inconclusive without releases)",
        -1,
        10,
    ),
    "CII-Best-Practices": ("OpenSSF Best Practices badge level", 0, 10),
}


@dataclass
class RepositoryInput:
    name: str
    default_branch: str = "main"
    rulesets: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    files_via_pull_request: bool = False


@dataclass
class RepositoryPrediction:
    name: str
    checks: list[CheckResult]
    notes: list[str] = field(default_factory=list)

    def aggregate(self) -> float | None:
        """GetAggregateScore over the predictable checks (inconclusive ones left out)."""
        total = score = 0.0
        for check in self.checks:
            if check.score is None or check.score < 0:
                continue
            weight = RISK_WEIGHT[check.risk]
            total += weight
            score += weight * check.score
        return None if total == 0 else math.floor(score / total * 10) / 10

    def as_dict(self) -> dict[str, Any]:
        return {
            "repository": self.name,
            "scorecard": {"version": VERSION, "commit": COMMIT},
            "aggregate": self.aggregate(),
            "aggregateOver": "predictable checks only, weighted by Scorecard's risk levels",
            "notes": self.notes,
            "checks": [c.as_dict() for c in self.checks],
        }


def inputs_from_resources(resources: list[dict[str, Any]]) -> list[RepositoryInput]:
    """One RepositoryInput per declared github Repository."""
    repos: dict[str, RepositoryInput] = {}
    for r in resources:
        if r["type"] == REPOSITORY:
            name = r["inputs"]["name"]
            repos[name] = RepositoryInput(name)
    for r in resources:
        inputs = r["inputs"]
        repo = repos.get(inputs.get("repository", ""))
        if repo is None:
            continue
        if r["type"] == RULESET:
            repo.rulesets.append(inputs)
        elif r["type"] == FILE:
            repo.files[inputs["file"]] = inputs.get("content", "")
            branch = inputs.get("branch")
            repo.files_via_pull_request |= bool(branch) and branch != repo.default_branch
        elif r["type"] == BRANCH_DEFAULT:
            repo.default_branch = inputs.get("branch", repo.default_branch)
    return list(repos.values())


def _workflows(files: dict[str, str], notes: list[str]) -> list[Workflow]:
    found = []
    for path, text in sorted(files.items()):
        if not is_workflow_file(path) or not contains_commands(text):
            continue
        try:
            found.append(parse(path, text))
        except WorkflowError as error:
            notes.append(str(error))
    return found


def predict_checks(
    repo: RepositoryInput, files: dict[str, str]
) -> tuple[list[CheckResult], list[str]]:
    notes: list[str] = []
    workflows = _workflows(files, notes)
    perms = permissions.PermissionData()
    pins = pinned.PinningData()
    danger = dangerous.DangerousData()
    for workflow in workflows:
        permissions.collect(workflow, perms)
        pinned.action_dependencies(workflow, pins)
        pinned.run_dependencies(workflow, pins)
        dangerous.collect(workflow, danger)
    notes += pins.processing_errors
    has_codeowners = any(p.split("/")[-1] == "CODEOWNERS" for p in files)
    rule = branch_protection.branch_rule(repo.rulesets, repo.default_branch, default=True)
    checks = [
        branch_protection.evaluate(
            {repo.default_branch: branch_protection.probe(rule, has_codeowners)}
        ),
        permissions.evaluate(perms),
        pinned.evaluate(pins),
        dangerous.evaluate(danger),
        repo_files.security_policy(files),
        repo_files.dependency_update_tool(files),
        repo_files.license_check(files),
        repo_files.binary_artifacts(files),
        repo_files.sast(workflows),
        repo_files.packaging(workflows),
        repo_files.fuzzing(),
    ]
    for name, (reason, low, high) in NOT_PREDICTABLE.items():
        checks.append(
            CheckResult(name, None, reason, "history or external data", low=low, high=high)
        )
    return checks, notes


def predict(repo: RepositoryInput) -> RepositoryPrediction:
    """The state once the managed files are on the default branch; until a managed-files PR
    merges, each check that differs says what it scores meanwhile."""
    checks, notes = predict_checks(repo, repo.files)
    if repo.files_via_pull_request:
        before, _ = predict_checks(repo, {})
        for check, meanwhile in zip(checks, before, strict=True):
            if check.score is None or meanwhile.score == check.score:
                continue
            if meanwhile.score is None or meanwhile.score < 0:
                text = (
                    "until the managed-files pull request merges, the repository's own files decide"
                )
            else:
                text = f"until the managed-files pull request merges: {meanwhile.score}"
            check.details.insert(0, text)
    notes.insert(0, "default branch only: release branches come from releases (history)")
    return RepositoryPrediction(repo.name, checks, notes)


def predict_resources(resources: list[dict[str, Any]]) -> list[RepositoryPrediction]:
    return [predict(repo) for repo in inputs_from_resources(resources)]
