"""The security floor of each stack: settings no config change may weaken, as data.

A floor names the environment tiers the stack may declare, the repository settings every
repository it governs must keep (each a `Guard`), and the policies its policy config may not
turn down from mandatory. Prod's floor comes from the seed's branch-protection requirements and
the OpenSSF Scorecard checks this project aims at (Branch-Protection tier 4, Pinned-Dependencies,
Token-Permissions, SAST, Dependency-Update-Tool, Vulnerabilities); staging governs a public
sandbox, so it keeps everything but visibility, the prod-only environment and the stricter
review rules. A stack without a floor of its own gets prod's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from infra.config.checks import DEPENDENCY_REVIEW_CHECK, Control
from infra.config.errors import ConfigProblem
from infra.config.github import DeploymentEnvironment, RepositorySettings, effective_owners
from infra.config.model import StackConfig

TEAM_OWNER = r"@[A-Za-z0-9-]+/[A-Za-z0-9._-]+"
PRODUCTION = "production"


@dataclass(frozen=True)
class Guard:
    """One security-relevant repository setting and the least it may be."""

    name: str  # id, e.g. "bypass-actors"
    setting: str  # key below github.repositories.<repo>, as messages name it
    floor: str  # the least allowed, in words
    holds: Callable[[RepositorySettings], bool]


def _production(s: RepositorySettings) -> DeploymentEnvironment | None:
    return s.environments.get(PRODUCTION)


# Paths that stand for the guarded patterns `*` and `/.github/`: judged by who *effectively*
# owns each (the last matching line), not by which lines exist.
GUARDED_PATHS = ("README.md", "src/app/main.py", ".github/CODEOWNERS", ".github/workflows/x.yml")


def _owned_by_teams(s: RepositorySettings) -> bool:
    if not s.codeowners:
        return True  # the generated default: everything and /.github/ owned by team-leads
    return all(
        any(re.fullmatch(TEAM_OWNER, o) for o in effective_owners(s.codeowners, path))
        for path in GUARDED_PATHS
    )


def provides(s: RepositorySettings, control: Control) -> bool:
    """Whether the repository runs `control` on every pull request: a managed workflow does, or
    a required check of its own CI is declared to."""
    checks = s.branch_rules.required_checks
    if any(control in c.covers for c in checks if c.external):
        return True
    if control == "codeScanning":
        return "codeql" in s.workflows.enabled
    # The managed check is proven reported by a managed workflow (infra/stack.py).
    return any(c.context == DEPENDENCY_REVIEW_CHECK for c in checks if not c.external)


def approvals(minimum: int) -> Guard:
    return Guard(
        "approvals",
        "branchRules.requiredApprovals",
        f">= {minimum}",
        lambda s: s.branch_rules.required_approvals >= minimum,
    )


COMMON: tuple[Guard, ...] = (
    Guard(
        "bypass-actors",
        "branchRules.bypassActors",
        "empty: nobody bypasses the rules, in any mode (always, pull_request or exempt)",
        lambda s: not s.branch_rules.bypass_actors,
    ),
    Guard(
        "ruleset-active",
        "branchRules.enforcement",
        "'active'",
        lambda s: s.branch_rules.enforcement == "active",
    ),
    Guard(
        "stale-reviews",
        "branchRules.dismissStaleReviews",
        "true",
        lambda s: s.branch_rules.dismiss_stale_reviews,
    ),
    Guard(
        "last-push-approval",
        "branchRules.requireLastPushApproval",
        "true",
        lambda s: s.branch_rules.require_last_push_approval,
    ),
    Guard(
        "required-checks",
        "branchRules.requiredChecks",
        "at least one check, each bound to the app that reports it, on an up-to-date branch "
        "(strictChecks)",
        lambda s: bool(s.branch_rules.required_checks) and s.branch_rules.strict_checks,
    ),
    Guard(
        "dependency-review",
        "branchRules.requiredChecks",
        f"a dependency review among them: the managed {DEPENDENCY_REVIEW_CHECK!r} (workflows "
        "dependency-check or dependency-review) or an external check with covers: "
        "[dependencyReview]",
        lambda s: provides(s, "dependencyReview"),
    ),
    Guard(
        "conversation-resolution",
        "branchRules.requireConversationResolution",
        "true",
        lambda s: s.branch_rules.require_conversation_resolution,
    ),
    Guard(
        "history",
        "branchRules",
        "linearHistory, blockForcePushes and blockDeletion all true",
        lambda s: (
            s.branch_rules.linear_history
            and s.branch_rules.block_force_pushes
            and s.branch_rules.block_deletion
        ),
    ),
    Guard(
        "actions-allow-list",
        "actions.allowedActions",
        "'selected' or 'local_only' (never all actions)",
        lambda s: s.actions.allowed_actions != "all",
    ),
    Guard(
        "sha-pinning",
        "actions.shaPinningRequired",
        "true",
        lambda s: s.actions.sha_pinning_required,
    ),
    Guard(
        "workflow-token",
        "actions",
        "defaultWorkflowPermissions 'read' and canApprovePullRequests false",
        lambda s: (
            s.actions.default_workflow_permissions == "read"
            and not s.actions.can_approve_pull_requests
        ),
    ),
    Guard(
        "team-permissions",
        "teams",
        "no team above 'maintain' (admins are granted by the organisation, not here)",
        lambda s: all(t.permission != "admin" for t in s.teams),
    ),
    Guard(
        "codeowners",
        "codeowners",
        "every file, and '/.github/', owned by a team (@org/team) as the last matching line "
        "decides",
        _owned_by_teams,
    ),
    Guard(
        "code-scanning",
        "workflows.enabled",
        "includes codeql, or a required external check has covers: [codeScanning]",
        lambda s: provides(s, "codeScanning"),
    ),
    Guard(
        "dependabot",
        "dependabot.openPullRequestsLimit",
        ">= 1 (0 turns version updates off)",
        lambda s: s.dependabot.open_pull_requests_limit >= 1,
    ),
    Guard(
        "vulnerability-alerts",
        "security",
        "vulnerabilityAlerts and dependabotSecurityUpdates true",
        lambda s: s.security.vulnerability_alerts and s.security.dependabot_security_updates,
    ),
    Guard(
        "secret-scanning",
        "security",
        "secretScanning and pushProtection true",
        lambda s: s.security.secret_scanning and s.security.push_protection,
    ),
)

PROD_ONLY: tuple[Guard, ...] = (
    Guard(
        "visibility",
        "visibility",
        "'private' or 'internal'",
        lambda s: s.visibility != "public",
    ),
    approvals(2),
    Guard(
        "code-owner-review",
        "branchRules.requireCodeOwnerReview",
        "true",
        lambda s: s.branch_rules.require_code_owner_review,
    ),
    Guard(
        "production-environment",
        f"environments.{PRODUCTION}",
        "present, with required reviewers, self-review prevented, admins unable to bypass, and "
        "deployments from the default branch only",
        lambda s: (
            (env := _production(s)) is not None
            and bool(env.reviewers)
            and env.prevent_self_review
            and not env.can_admins_bypass
            and env.default_branch_only
        ),
    ),
    Guard(
        "managed-files-route",
        "managedFiles.via",
        "'pullRequest' (files reach the default branch by reviewed pull request)",
        lambda s: s.managed_files.via == "pullRequest",
    ),
)


@dataclass(frozen=True)
class ParameterFloor:
    """A policy parameter the stack's policy config may not weaken: a mandatory policy with its
    threshold at zero is switched off in effect. Judged on the value the pack would be
    configured with (the schema's default where the file gives none)."""

    policy: str
    parameter: str
    floor: str  # what it must be, in the words of an error message
    holds: Callable[[object, object], bool]  # (value, the schema's default)


def _number_at_least(value: object, minimum: float) -> bool:
    # Schema defaults arrive through protobuf, where every number is a float.
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= minimum


def _is_true(value: object, _default: object) -> bool:
    return value is True


def _at_least(minimum: int) -> Callable[[object, object], bool]:
    return lambda v, _: _number_at_least(v, minimum)


def min_approvals(minimum: int) -> ParameterFloor:
    return ParameterFloor(
        "github-ruleset-reviews", "requiredApprovals", f">= {minimum}", _at_least(minimum)
    )


COMMON_PARAMETERS: tuple[ParameterFloor, ...] = (
    ParameterFloor("github-ruleset-required-checks", "minRequiredChecks", ">= 1", _at_least(1)),
    ParameterFloor("k8s-images-pinned", "requireDigest", "true", _is_true),
)


def _scorecard_minimums(value: object, default: object) -> bool:
    # Held to the pack's own default minimums (its schema): an empty map leaves those in force,
    # a partial one drops the checks it omits, a lower score holds a check to less.
    if not isinstance(value, dict) or not isinstance(default, dict):
        return False
    return not value or all(_number_at_least(value.get(c), least) for c, least in default.items())


PROD_PARAMETERS: tuple[ParameterFloor, ...] = (
    min_approvals(2),
    ParameterFloor(
        "github-scorecard-floor",
        "minimums",
        "every check of the pack's default minimums at its score or higher",
        _scorecard_minimums,
    ),
    ParameterFloor("k8s-production-high-availability", "minReplicas", ">= 2", _at_least(2)),
    ParameterFloor("monitoring-storage-retained", "requireRetention", "true", _is_true),
)


@dataclass(frozen=True)
class Floor:
    tiers: frozenset[str]  # environment tiers the stack may declare
    guards: tuple[Guard, ...]
    # Policies its policy config may not set below mandatory; None: every policy of the pack.
    mandatory_policies: frozenset[str] | None
    parameters: tuple[ParameterFloor, ...] = ()


FLOORS: dict[str, Floor] = {
    "prod": Floor(
        frozenset({PRODUCTION}),
        (*COMMON, *PROD_ONLY),
        None,
        (*COMMON_PARAMETERS, *PROD_PARAMETERS),
    ),
    "staging": Floor(
        frozenset({"staging"}),
        (*COMMON, approvals(1)),
        frozenset(
            {
                "github-secret-scanning",
                "github-repository-protected",
                "github-single-stack-ownership",
                "k8s-images-pinned",
                "k8s-pod-security-restricted",
            }
        ),
        (*COMMON_PARAMETERS, min_approvals(1)),
    ),
}


def floor_of(stack: str) -> Floor:
    return FLOORS.get(stack, FLOORS["prod"])


def floor_problems(stack: str, config: StackConfig) -> list[ConfigProblem]:
    """Every setting of `config` below the floor of `stack`."""
    floor = floor_of(stack)
    own = "" if stack in FLOORS else " (a stack without a floor of its own gets prod's)"
    problems = [
        ConfigProblem(
            f"environments.{name}.tier",
            f"stack '{stack}' may declare only tier {' or '.join(sorted(floor.tiers))}{own}; "
            "a weaker tier would switch off the policies of its own",
        )
        for name, env in sorted(config.environments.items())
        if env.tier not in floor.tiers
    ]
    if config.github is not None:
        problems += [
            ConfigProblem(
                f"github.repositories.{repo}.{guard.setting}",
                f"below the security floor of stack '{stack}'{own}: must be {guard.floor}",
            )
            for repo, settings in sorted(config.github.settings.items())
            for guard in floor.guards
            if not guard.holds(settings)
        ]
    return problems
