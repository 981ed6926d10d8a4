"""Pinned-Dependencies over workflow files: actions by commit SHA, package installs in `run:`.

Raw data follows checks/raw/pinned_dependencies.go (validateGitHubActionWorkflow,
isActionDependencyPinned, validateGitHubWorkflowIsFreeOfInsecureDownloads) and
checks/raw/shell_download_validate.go (isPipInstall, isPythonPipInstall, isUnpinnedPipInstall,
isPinnedEditableSource, isNpmDownload, isNpmUnpinnedDownload); the score follows
checks/evaluation/pinned_dependencies.go (PinningDependencies, its GitHub-owned/third-party
weights). Download-then-run lines, go/choco/nuget/dotnet installs, Dockerfiles and shell script
files are not modelled: the managed files contain none (a test keeps it so).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from scorecard.result import (
    INCONCLUSIVE,
    MAX_SCORE,
    CheckResult,
    proportional_weighted,
)
from scorecard.shell import ShellSyntaxError, commands
from scorecard.workflow import UnknownOS, Workflow, shell_for_step

GITHUB_OWNED_WEIGHT, THIRD_PARTY_WEIGHT = 2, 8
NORMAL_WEIGHT = GITHUB_OWNED_WEIGHT + THIRD_PARTY_WEIGHT
SUPPORTED_SHELLS = ("sh", "bash", "mksh")
PYTHON_INTERPRETERS = ("python", "python3", "python2.7")

_LOCAL_ACTION = re.compile(r"^\..+[^/]")
_SHA_PINNED = re.compile(r".*@[a-fA-F\d]{40,}")
_DIGEST_PINNED = re.compile(r"docker://.*@sha256:[a-fA-F\d]{64}")
_EXPRESSION = re.compile(r"{{[^{}]*}}")
_FLAG = re.compile(r"^(\-\-?\w+)+$")
_REMOTE_SOURCE = re.compile(r"^(git|svn|hg|bzr).+$")
_PINNED_GIT_SOURCE = re.compile(
    r"^git(\+(https?|ssh|git))?\:\/\/.*(.git)?@[a-fA-F0-9]{40}(#egg=.*)?$"
)
_COMMIT = re.compile(r"^[a-fA-F0-9]{40}$")


@dataclass(frozen=True)
class Dependency:
    kind: str  # GitHubAction, pipCommand, npmCommand
    snippet: str
    path: str
    pinned: bool


@dataclass
class PinningData:
    dependencies: list[Dependency] = field(default_factory=list)
    processing_errors: list[str] = field(default_factory=list)

    def unpinned(self) -> int:
        return sum(not d.pinned for d in self.dependencies)


def is_action_pinned(uses: str) -> bool:
    """isActionDependencyPinned."""
    return bool(_LOCAL_ACTION.match(uses) or _SHA_PINNED.match(uses) or _DIGEST_PINNED.match(uses))


def is_github_owned(uses: str) -> bool:
    """fileparser.IsGitHubOwnedAction."""
    return uses.startswith(("actions/", "github/"))


def action_dependencies(workflow: Workflow, data: PinningData) -> None:
    """validateGitHubActionWorkflow: reusable-workflow calls and step actions, not local ones."""
    for job in workflow.jobs:
        if job.calls and not job.calls.startswith("./"):
            data.dependencies.append(
                Dependency("GitHubAction", job.calls, workflow.path, is_action_pinned(job.calls))
            )
        for step in job.steps:
            if not step.uses or step.uses.startswith("./"):
                continue
            data.dependencies.append(
                Dependency("GitHubAction", step.uses, workflow.path, is_action_pinned(step.uses))
            )


def _binary(expected: str, name: str) -> bool:
    return posixpath.basename(name).lower() == expected


def _is_pip_install(cmd: list[str]) -> bool:
    return (
        len(cmd) >= 2
        and (_binary("pip", cmd[0]) or _binary("pip3", cmd[0]))
        and cmd[1].lower() == "install"
    )


def _pip_module_command(cmd: list[str]) -> list[str] | None:
    """extractPipCommand: the words from `pip` on, after `-m pip`."""
    for i in range(1, len(cmd) - 1):
        if cmd[i].lower() == "-m" and cmd[i + 1].lower() == "pip":
            return cmd[i + 1 :]
    return None


def _is_python_pip_install(cmd: list[str]) -> bool:
    if not cmd or not any(_binary(p, cmd[0]) for p in PYTHON_INTERPRETERS):
        return False
    pip = _pip_module_command(cmd)
    return pip is not None and _is_pip_install(pip)


def _pinned_editable_source(source: str) -> bool:
    return not _REMOTE_SOURCE.match(source) or bool(_PINNED_GIT_SOURCE.match(source))


def is_unpinned_pip_install(cmd: list[str]) -> bool:
    """isUnpinnedPipInstall: hash-checked, wheel-only or pinned editable installs are pinned."""
    no_deps = editable = require_hashes = extra = wheel = False
    editable_pinned = True
    for arg in cmd[2:]:
        if arg.lower() == "--no-deps":
            no_deps = True
        elif arg in ("-e", "--editable"):
            editable = True
        elif arg.lower() == "--require-hashes":
            require_hashes = True
            break
        elif _FLAG.match(arg):
            continue
        elif arg.endswith(".whl"):
            wheel = True
        elif editable:
            editable_pinned = editable_pinned and _pinned_editable_source(arg)
        else:
            extra = True
    if editable:
        return not no_deps or not editable_pinned
    if require_hashes:
        return False
    if extra:
        return True
    return not wheel


def _pip(cmd: list[str]) -> bool | None:
    """isPipDownload / isPipUnpinnedDownload: None when not a pip install, else pinned?"""
    if _is_pip_install(cmd):
        return not is_unpinned_pip_install(cmd)
    if _is_python_pip_install(cmd):
        return not is_unpinned_pip_install(_pip_module_command(cmd) or [])
    return None


def is_npm_download(cmd: list[str]) -> bool:
    return (
        bool(cmd)
        and _binary("npm", cmd[0])
        and any(a.lower() in ("install", "i", "install-test", "update", "ci") for a in cmd[1:])
    )


def is_npm_unpinned_download(cmd: list[str]) -> bool:
    for arg in cmd[1:]:
        if arg.lower() == "ci":
            return False
        if arg.startswith(("github:", "git://", "git+http://", "git+https://")):
            parts = arg.split("#", 4)
            if len(parts) != 2:
                return True
            if _COMMIT.match(parts[1]):
                return False
    return True


def command_dependency(cmd: list[str], path: str) -> Dependency | None:
    """collectUnpinnedPackageManagerDownload, for the package managers modelled here."""
    snippet = " ".join(cmd)
    pinned = _pip(cmd)
    if pinned is not None:
        return Dependency("pipCommand", snippet, path, pinned)
    if is_npm_download(cmd):
        return Dependency("npmCommand", snippet, path, not is_npm_unpinned_download(cmd))
    return None


def run_dependencies(workflow: Workflow, data: PinningData) -> None:
    """validateGitHubWorkflowIsFreeOfInsecureDownloads: `run:` of bash/sh steps."""
    for job in workflow.jobs:
        for step in job.steps:
            if step.run is None:
                continue
            try:
                shell = shell_for_step(step, job)
            except UnknownOS as error:
                data.processing_errors.append(f"{workflow.path}: {error}")
                continue
            if not any(_binary(s, shell) for s in SUPPORTED_SHELLS):
                continue
            script = _EXPRESSION.sub("GITHUB_REDACTED_VAR", step.run)
            try:
                found = commands(script)
            except ShellSyntaxError as error:
                data.processing_errors.append(f"{workflow.path}: {error}")
                continue
            for cmd in found:
                dependency = command_dependency(cmd, workflow.path)
                if dependency is not None:
                    data.dependencies.append(dependency)


NAME = "Pinned-Dependencies"
FOLLOWS = "checks/evaluation/pinned_dependencies.go PinningDependencies"


def evaluate(data: PinningData) -> CheckResult:
    owned = [
        d for d in data.dependencies if d.kind == "GitHubAction" and is_github_owned(d.snippet)
    ]
    third = [
        d for d in data.dependencies if d.kind == "GitHubAction" and not is_github_owned(d.snippet)
    ]
    groups: list[tuple[int, int, int]] = []
    details: list[str] = []

    def tally(deps: list[Dependency], label: str, weight: int) -> None:
        pinned = sum(d.pinned for d in deps)
        details.append(f"{pinned:3d} out of {len(deps):3d} {label} dependencies pinned")
        groups.append((pinned, len(deps), weight))

    if owned and third:
        tally(owned, "GitHub-owned GitHubAction", GITHUB_OWNED_WEIGHT)
        tally(third, "third-party GitHubAction", THIRD_PARTY_WEIGHT)
    elif owned:
        tally(owned, "GitHub-owned GitHubAction", NORMAL_WEIGHT)
    elif third:
        tally(third, "third-party GitHubAction", NORMAL_WEIGHT)
    for kind in sorted({d.kind for d in data.dependencies} - {"GitHubAction"}):
        tally([d for d in data.dependencies if d.kind == kind], kind, NORMAL_WEIGHT)
    unpinned = [f"{d.path}: {d.snippet}" for d in data.dependencies if not d.pinned]
    if not groups:
        return CheckResult(NAME, INCONCLUSIVE, "no dependencies found", FOLLOWS)
    score = proportional_weighted(groups)
    if score == MAX_SCORE:
        return CheckResult(NAME, score, "all dependencies are pinned", FOLLOWS, details)
    return CheckResult(
        NAME,
        score,
        f"dependency not pinned by hash detected -- score normalized to {score}",
        FOLLOWS,
        details + [f"not pinned: {u}" for u in unpinned],
        to_raise=[
            "install Python packages with `--require-hashes` from a hash-pinned lock file: "
            "set `workflows.lockFile` in config (the repository must hold that file)"
        ]
        if any(d.kind == "pipCommand" and not d.pinned for d in data.dependencies)
        else ["pin every action by commit SHA"],
    )
