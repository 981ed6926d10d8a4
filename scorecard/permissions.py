"""Token-Permissions over workflow files.

Raw data follows checks/raw/permissions.go (validateGitHubActionTokenPermissions and its
createIgnoredPermissions: packaging, releasing, Pages and SARIF-upload workflows may write the
scope they need at job level); findings follow probes/jobLevelPermissions and
probes/topLevelPermissions; the score follows checks/evaluation/permissions.go
(TokenPermissions), which reads every job-level finding before the top-level ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scorecard.result import INCONCLUSIVE, MAX_SCORE, CheckResult
from scorecard.workflow import Job, Permissions, Step, Workflow

NAME = "Token-Permissions"
FOLLOWS = "checks/evaluation/permissions.go TokenPermissions"

OF_INTEREST = (
    "statuses",
    "checks",
    "security-events",
    "deployments",
    "contents",
    "packages",
    "actions",
)
SARIF_ACTIONS = {
    "github/codeql-action/analyze",
    "github/codeql-action/upload-sarif",
    "ossf/scorecard-action",
    "haskell-actions/hlint-scan",
    "zizmorcore/zizmor-action",
}


@dataclass(frozen=True)
class Matcher:
    """fileparser.JobMatcher: every step pattern must match some step of one job."""

    steps: tuple[tuple[str, str, dict[str, str]], ...]  # (uses prefix, run regex, with)
    label: str


def _m(label: str, *steps: tuple[str, str, dict[str, str]]) -> Matcher:
    return Matcher(steps, label)


def _uses(name: str, **inputs: str) -> tuple[str, str, dict[str, str]]:
    return (name, "", {k.replace("_", "-"): v for k, v in inputs.items()})


def _run(pattern: str) -> tuple[str, str, dict[str, str]]:
    return ("", pattern, {})


# fileparser.IsPackagingWorkflow
PACKAGING = [
    _m(
        "npm",
        _uses("actions/setup-node", registry_url="https://registry.npmjs.org"),
        _run("npm.*publish"),
    ),
    _m("maven", _uses("actions/setup-java"), _run("mvn.*deploy")),
    _m("gradle", _uses("actions/setup-java"), _run("gradle.*publish")),
    _m("sbt-ci-release", _run("sbt.*ci-release")),
    _m("gem", _run("gem.*push")),
    _m("nuget", _run("nuget.*push")),
    _m("docker push", _run("docker.*push")),
    _m("docker/build-push-action", _uses("docker/build-push-action")),
    _m("pypi", _uses("pypa/gh-action-pypi-publish")),
    _m("python-semantic-release", _uses("relekang/python-semantic-release")),
    _m("goreleaser", _uses("goreleaser/goreleaser-action")),
    _m("cargo", _run("cargo.*publish")),
    _m("ko", _uses("imjasonh/setup-ko"), _uses("ko-build/setup-ko")),
    _m("semantic-release", _run("npx.*semantic-release")),
    _m("elixir", _uses("erlef/setup-elixir"), _run(".*hex.publish.*")),
]
# checks/raw/permissions.go isReleasingWorkflow
RELEASING = [
    _m("python-semantic-release", _uses("relekang/python-semantic-release")),
    _m("semantic-release", _run("(npx|pnpm|yarn).*semantic-release")),
    _m("goreleaser", _uses("actions/setup-go"), _uses("goreleaser/goreleaser-action")),
    _m(
        "slsa go",
        _uses("slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml"),
    ),
    _m(
        "slsa generic",
        _uses("slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml"),
    ),
    _m("mvn release", _run(".*mvn.*release:prepare.*")),
]
PAGES = [_m("gh-pages", _uses("peaceiris/actions-gh-pages"))]

_CONTINUATION = re.compile("\\\\(\n|\r|\r\n)")


def _step_matches(pattern: tuple[str, str, dict[str, str]], step: Step) -> bool:
    uses, run, inputs = pattern
    if uses and not (step.uses and step.uses.startswith(uses + "@")):
        return False
    if inputs and any(step.inputs.get(k) != v for k, v in inputs.items()):
        return False
    return not run or (
        step.run is not None and re.search(run, _CONTINUATION.sub("", step.run)) is not None
    )


def _job_matches(matcher: Matcher, job: Job) -> bool:
    for pattern in matcher.steps:
        if job.calls and job.calls.startswith(pattern[0] + "@") and pattern[0]:
            return True
        if not any(_step_matches(pattern, step) for step in job.steps):
            return False
    return True


def any_job_matches(workflow: Workflow, matchers: list[Matcher]) -> str | None:
    """fileparser.AnyJobsMatch: the label of the first matching pattern, if any."""
    for job in workflow.jobs:
        for matcher in matchers:
            if _job_matches(matcher, job):
                return matcher.label
    return None


def _is_sarif_upload(workflow: Workflow) -> bool:
    return any(
        step.uses and step.uses.split("@")[0] in SARIF_ACTIONS
        for job in workflow.jobs
        for step in job.steps
    )


@dataclass(frozen=True)
class Token:
    """checker.TokenPermission: `level` is undeclared, write, read, none or unknown."""

    path: str
    location: str  # top or job
    level: str
    name: str | None = None
    value: str | None = None


@dataclass
class PermissionData:
    workflows: int = 0
    tokens: list[Token] = field(default_factory=list)


def _level(value: str) -> str:
    return {"read": "read", "read-all": "read", "none": "none"}.get(value, "unknown")


def _record(
    data: PermissionData, path: str, location: str, permissions: Permissions, ignored: set[str]
) -> None:
    """validatePermissions."""
    if not permissions.all and not permissions.scopes:
        data.tokens.append(Token(path, location, "none", value="none"))
        return
    if permissions.all:
        value = permissions.all
        level = "write" if value.lower() != "read-all" else "read"
        data.tokens.append(Token(path, location, level, value=value))
        return
    for key, value in permissions.scopes.items():
        if value.lower() == "write":
            interesting = any(key.lower() == p and p not in ignored for p in OF_INTEREST)
            level = "write" if interesting else "unknown"
        else:
            level = _level(value)
        data.tokens.append(Token(path, location, level, name=key, value=value))


def collect(workflow: Workflow, data: PermissionData) -> None:
    """validateGitHubActionTokenPermissions for one parsed workflow file."""
    data.workflows += 1
    if workflow.permissions is None:
        data.tokens.append(Token(workflow.path, "top", "undeclared"))
    else:
        _record(data, workflow.path, "top", workflow.permissions, set())
    ignored = set()
    if any_job_matches(workflow, PACKAGING):
        ignored.add("packages")
    if any_job_matches(workflow, RELEASING) or any_job_matches(workflow, PAGES):
        ignored.add("contents")
    if _is_sarif_upload(workflow):
        ignored.add("security-events")
    for job in workflow.jobs:
        if job.permissions is None:
            data.tokens.append(Token(workflow.path, "job", "undeclared"))
        else:
            _record(data, workflow.path, "job", job.permissions, ignored)


@dataclass(frozen=True)
class _Finding:
    """A probe finding with outcome False (the only ones that move the score)."""

    probe: str
    token: Token
    name: str


def _findings(data: PermissionData, location: str) -> list[_Finding]:
    """probes/jobLevelPermissions and probes/topLevelPermissions, the False outcomes."""
    found = []
    for token in data.tokens:
        if token.location != location or token.level in ("none", "read"):
            continue
        if token.level == "undeclared":
            found.append(_Finding(location, token, ""))
            continue
        if location == "top" and token.value == "write-all":
            name = "write-all"
        elif token.name is not None:
            name = token.name
        else:
            continue
        found.append(_Finding(location, token, name))
    return found


def _reduce_by(name: str) -> float:
    if name in ("checks", "statuses"):
        return 0.5
    if name in ("contents", "packages", "actions"):
        return float(MAX_SCORE)
    if name in ("deployments", "security-events"):
        return 1.0
    return 0.0


def evaluate(data: PermissionData) -> CheckResult:
    if data.workflows == 0:
        return CheckResult(NAME, INCONCLUSIVE, "No tokens found", FOLLOWS)
    score = float(MAX_SCORE)
    writes: dict[str, set[str]] = {"job": set(), "top": set()}
    undeclared: dict[str, set[str]] = {"job": set(), "top": set()}
    details: list[str] = []
    for finding in _findings(data, "job") + _findings(data, "top"):
        token, path = finding.token, finding.token.path
        if token.level == "undeclared":
            undeclared[finding.probe].add(path)
            if finding.probe == "job":
                if path in writes["top"] or path in undeclared["top"]:
                    score = 0
            else:
                details.append(f"{path}: no topLevel permission defined")
                score = 0 if path in undeclared["job"] else score - 0.5
            continue
        if token.level != "write":
            continue
        if finding.probe == "top":
            writes["top"].add(path)
            if finding.name not in ("all", "write-all"):
                if _reduce_by(finding.name):
                    details.append(f"{path}: topLevel '{finding.name}' permission set to 'write'")
                score -= _reduce_by(finding.name)
                continue
            details.append(f"{path}: topLevel permissions set to 'write-all'")
            if path in writes["job"] or path in undeclared["job"]:
                return CheckResult(
                    NAME,
                    0,
                    "detected GitHub workflow tokens with excessive permissions",
                    FOLLOWS,
                    details,
                    ["declare `permissions:` at the top of each workflow, read-only"],
                )
            score -= 0.5
        else:
            details.append(f"{path}: jobLevel '{finding.name}' permission set to 'write'")
            writes["job"].add(path)
            if path in writes["top"]:
                score = 0
            elif path in undeclared["top"]:
                score -= 0.5
    score = max(score, 0)
    if score != MAX_SCORE:
        return CheckResult(
            NAME,
            int(score),
            "detected GitHub workflow tokens with excessive permissions",
            FOLLOWS,
            details,
            ["declare `permissions:` at the top of each workflow, read-only; grant writes per job"],
        )
    return CheckResult(
        NAME,
        MAX_SCORE,
        "GitHub workflow tokens follow principle of least privilege",
        FOLLOWS,
        details,
    )
