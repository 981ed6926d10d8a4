"""The security floor of each stack, in one table: every minimum no config change may weaken.

Each row (`Minimum`) names one key, the least it may be on each stack (`Bound`) and why. From
this table come the config's floor check (exit 2 naming the key), the policy pack's parameter
values (`policies/config/<stack>.json` and the pack's own defaults, written by `infractl
policies sync-config`; a test keeps both fresh), the Scorecard minimums, and what `infractl
explain` and docs/reference/config.md say about a key's floor.

Keys: a stack config key with `<...>` standing for any name (`services.<service>.replicas`);
a repository setting as `github.repositories.<repo>.<setting>` (judged on each repository's
effective settings, named at the layer that set it); or a policy parameter as
`policy:<policy>.<parameter>`. A row may also tie a config key to the pack parameter that holds
the same minimum on the synthesized resources (`policy=`).

Adding a minimum is adding a row: the key, `{stack: bound}`, the reason. Prod's floor comes from
the seed's branch-protection requirements and the OpenSSF Scorecard checks this project aims at
(Branch-Protection tier 4, Pinned-Dependencies, Token-Permissions, SAST, Dependency-Update-Tool,
Vulnerabilities); staging governs a public sandbox, so it keeps everything but visibility, the
prod-only environment and the stricter review rules. A stack without a floor of its own gets
prod's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from infra.config.errors import ConfigProblem
from infra.config.github import DEFAULT_CHECKS, CodeOwner, DeploymentEnvironment, effective_owners
from infra.config.model import StackConfig

TEAM_OWNER = r"@[A-Za-z0-9-]+/[A-Za-z0-9._-]+"
PRODUCTION = "production"
DEFAULT_STACK = "prod"  # whose floor a stack without one of its own gets
REPOSITORY = "github.repositories.<repo>."
POLICY = "policy:"


@dataclass(frozen=True)
class Bound:
    """The least a value may be on one stack: in the words of an error, as a test, and, for a
    policy parameter, the value the pack is configured with."""

    words: str
    holds: Callable[[Any], bool]
    value: Any = None


def _number(value: Any) -> bool:
    # Policy schema defaults arrive through protobuf, where every number is a float.
    return isinstance(value, int | float) and not isinstance(value, bool)


def at_least(minimum: int) -> Bound:
    return Bound(f">= {minimum}", lambda v: _number(v) and v >= minimum, minimum)


def at_most(maximum: float) -> Bound:
    return Bound(f"<= {maximum:g}", lambda v: _number(v) and v <= maximum, maximum)


def equal_to(expected: Any, words: str | None = None) -> Bound:
    shown = words or (f"{expected!r}" if isinstance(expected, str) else str(expected).lower())
    return Bound(shown, lambda v: v == expected, expected)


TRUE, FALSE = equal_to(True), equal_to(False)


def includes(items: list[str]) -> Bound:
    return Bound(
        f"a list including {', '.join(items)}",
        lambda v: isinstance(v, list) and set(items) <= set(v),
        list(items),
    )


def scores_at_least(minimums: dict[str, int]) -> Bound:
    """Scorecard minimums: every check present at its score or higher (a check left out is a
    check no longer held; one at 0 is held to nothing)."""
    shown = ", ".join(f"{check} {score}" for check, score in minimums.items())
    return Bound(
        f"every check at least: {shown}",
        lambda v: isinstance(v, dict) and all(_number(v.get(c)) and v[c] >= s
                                               for c, s in minimums.items()),
        dict(minimums),
    )  # fmt: skip


def one_of(values: frozenset[str]) -> Bound:
    return Bound(" or ".join(sorted(values)), lambda v: v in values)


def holds(words: str, test: Callable[[Any], bool]) -> Bound:
    return Bound(words, test)


@dataclass(frozen=True)
class Minimum:
    """One row of the floor: a key, the least it may be on each stack, and why."""

    key: str
    stacks: Mapping[str, Bound]
    reason: str
    # The pack parameter (policy, parameter) held to the same bound on the synthesized
    # resources, configured with the bound's value.
    policy: tuple[str, str] | None = None
    # For a policy parameter: what a stack without a bound of its own is configured with
    # (None: nothing, so the pack's default, prod's floor, applies).
    otherwise: Any = None
    name: str = field(default="")
    # The bound judges a repository's whole effective settings (an intent that more than one
    # key can meet), and an error names the row's key, where the usual fix goes.
    whole: bool = False

    @property
    def parameter(self) -> tuple[str, str] | None:
        if self.key.startswith(POLICY):
            policy, _, parameter = self.key.removeprefix(POLICY).partition(".")
            return policy, parameter
        return self.policy


def both(bound: Bound) -> dict[str, Bound]:
    return {"prod": bound, "staging": bound}


# Paths that stand for the guarded patterns `*` and `/.github/`: judged by who *effectively*
# owns each (the last matching line), not by which lines exist.
GUARDED_PATHS = ("README.md", "src/app/main.py", ".github/CODEOWNERS", ".github/workflows/x.yml")


def _owned_by_teams(rules: list[CodeOwner]) -> bool:
    if not rules:
        return True  # the generated default: everything and /.github/ owned by team-leads
    return all(
        any(re.fullmatch(TEAM_OWNER, o) for o in effective_owners(rules, path))
        for path in GUARDED_PATHS
    )


def _protected_environment(env: DeploymentEnvironment | None) -> bool:
    return (
        env is not None
        and bool(env.reviewers)
        and env.prevent_self_review
        and not env.can_admins_bypass
        and env.default_branch_only
    )


SCORECARD_MINIMUMS = {
    "Branch-Protection": 10,
    "Token-Permissions": 10,
    "Dangerous-Workflow": 10,
    "Security-Policy": 10,
    "Dependency-Update-Tool": 10,
    "Pinned-Dependencies": 9,
}
BRANCH_PROTECTION = "OpenSSF Scorecard Branch-Protection"

TABLE: tuple[Minimum, ...] = (
    Minimum(
        "environments.<env>.tier",
        {"prod": one_of(frozenset({PRODUCTION})), "staging": one_of(frozenset({"staging"}))},
        "each stack deploys one kind of environment; a weaker tier would switch off the "
        "policies of its own",
        name="tier",
    ),
    Minimum(
        REPOSITORY + "branchRules.bypassActors",
        both(holds("empty: nobody bypasses the rules, in any mode", lambda v: not v)),
        "any bypass mode (always, pull_request, exempt) lets one actor merge without the "
        f"reviews and checks everyone else needs ({BRANCH_PROTECTION})",
        name="bypass-actors",
    ),
    Minimum(
        REPOSITORY + "branchRules.enforcement",
        both(equal_to("active")),
        "an 'evaluate' or 'disabled' ruleset only reports; the default branch would be open",
        name="ruleset-active",
    ),
    Minimum(
        REPOSITORY + "branchRules.dismissStaleReviews",
        both(TRUE),
        f"an approval must not survive new pushes ({BRANCH_PROTECTION})",
        name="stale-reviews",
    ),
    Minimum(
        REPOSITORY + "branchRules.requireLastPushApproval",
        both(TRUE),
        "the last pusher cannot approve their own push",
        name="last-push-approval",
    ),
    Minimum(
        REPOSITORY + "branchRules.requiredChecks",
        both(includes(DEFAULT_CHECKS)),
        "merging waits for the tests, code quality and Dependency Review "
        f"({BRANCH_PROTECTION}, Vulnerabilities)",
        policy=("github-ruleset-required-checks", "requiredChecks"),
        name="required-checks",
    ),
    Minimum(
        REPOSITORY + "branchRules.strictChecks",
        both(TRUE),
        "the checks must have run on the branch as it will merge (up to date)",
        name="strict-checks",
    ),
    Minimum(
        REPOSITORY + "branchRules.requireConversationResolution",
        both(TRUE),
        "review comments are answered before merging",
        name="conversation-resolution",
    ),
    *(
        Minimum(
            REPOSITORY + f"branchRules.{key}",
            both(TRUE),
            "the default branch's history cannot be rewritten, deleted or tangled",
            name="history",
        )
        for key in ("linearHistory", "blockForcePushes", "blockDeletion")
    ),
    Minimum(
        REPOSITORY + "actions.allowedActions",
        both(holds("'selected' or 'local_only' (never all actions)", lambda v: v != "all")),
        "only reviewed, pinned actions run (OpenSSF Scorecard Pinned-Dependencies)",
        name="actions-allow-list",
    ),
    Minimum(
        REPOSITORY + "actions.shaPinningRequired",
        both(TRUE),
        "a tag can be moved under a workflow; a commit SHA cannot (Pinned-Dependencies)",
        name="sha-pinning",
    ),
    Minimum(
        REPOSITORY + "actions.defaultWorkflowPermissions",
        both(equal_to("read")),
        "a workflow token writes only where a job asks for it (Token-Permissions)",
        name="workflow-token",
    ),
    Minimum(
        REPOSITORY + "actions.canApprovePullRequests",
        both(FALSE),
        "a workflow must not approve the pull requests it could open (Token-Permissions)",
        name="workflow-token",
    ),
    Minimum(
        REPOSITORY + "teams",
        both(
            holds(
                "no team above 'maintain' (admins are granted by the organisation, not here)",
                lambda v: all(t.permission != "admin" for t in v),
            )
        ),
        "an admin team can change the rules this stack sets",
        name="team-permissions",
    ),
    Minimum(
        REPOSITORY + "codeowners",
        both(
            holds(
                "every file, and '/.github/', owned by a team (@org/team) as the last matching "
                "line decides",
                _owned_by_teams,
            )
        ),
        "code-owner review means a team reviews every change, workflows included",
        name="codeowners",
    ),
    Minimum(
        REPOSITORY + "workflows.enabled",
        both(
            holds(
                "includes codeql and dependency-check (which reports the required Dependency "
                "Review)",
                lambda v: {"codeql", "dependency-check"} <= set(v),
            )
        ),
        "static analysis and dependency review on every change (OpenSSF Scorecard SAST, "
        "Vulnerabilities)",
        name="required-workflows",
    ),
    Minimum(
        REPOSITORY + "dependabot.openPullRequestsLimit",
        both(at_least(1)),
        "0 turns version updates off (OpenSSF Scorecard Dependency-Update-Tool)",
        name="dependabot",
    ),
    *(
        Minimum(
            REPOSITORY + f"security.{key}",
            both(TRUE),
            "known vulnerabilities are reported and fixed by pull request (Vulnerabilities)",
            name="vulnerability-alerts",
        )
        for key in ("vulnerabilityAlerts", "dependabotSecurityUpdates")
    ),
    *(
        Minimum(
            REPOSITORY + f"security.{key}",
            both(TRUE),
            "a pushed credential is caught, and refused before it lands",
            name="secret-scanning",
        )
        for key in ("secretScanning", "pushProtection")
    ),
    Minimum(
        REPOSITORY + "visibility",
        {"prod": holds("'private' or 'internal'", lambda v: v != "public")},
        "prod's repositories hold the product's code; staging's sandbox is public on purpose",
        name="visibility",
    ),
    Minimum(
        REPOSITORY + "branchRules.requiredApprovals",
        {"prod": at_least(2), "staging": at_least(1)},
        f"{BRANCH_PROTECTION} tier 4 counts two approvals in prod; every stack's changes are "
        "reviewed by at least one other person",
        policy=("github-ruleset-reviews", "requiredApprovals"),
        name="approvals",
    ),
    Minimum(
        REPOSITORY + "branchRules.requireCodeOwnerReview",
        {"prod": TRUE},
        f"{BRANCH_PROTECTION} tier 4: the owners of what changed review it",
        name="code-owner-review",
    ),
    Minimum(
        REPOSITORY + f"environments.{PRODUCTION}",
        {
            "prod": holds(
                "present, with required reviewers, self-review prevented, admins unable to "
                "bypass, and deployments from the default branch only",
                _protected_environment,
            )
        },
        "a production deployment is approved by someone else, from reviewed code only",
        name="production-environment",
    ),
    Minimum(
        REPOSITORY + "managedFiles.via",
        {
            "prod": equal_to(
                "pullRequest",
                "'pullRequest' (files reach the default branch by reviewed pull request)",
            )
        },
        "the files this stack manages reach prod's default branch reviewed, like any change",
        name="managed-files-route",
    ),
    Minimum(
        "policy:k8s-images-pinned.requireDigest",
        both(TRUE),
        "an image by tag can change under a running workload; a digest cannot "
        "(OpenSSF Scorecard Pinned-Dependencies)",
        name="images-pinned",
    ),
    Minimum(
        "policy:k8s-production-high-availability.minReplicas",
        {"prod": at_least(2)},
        "one replica is an outage on every node drain or rollout",
        name="high-availability",
    ),
    Minimum(
        "policy:monitoring-storage-retained.requireRetention",
        {"prod": TRUE},
        "prod's metrics history outlives a Prometheus restart and a deleted release",
        otherwise=False,
        name="storage-retained",
    ),
    Minimum(
        "policy:github-scorecard-floor.minimums",
        {"prod": scores_at_least(SCORECARD_MINIMUMS)},
        "the OpenSSF Scorecard checks this project aims at, at the scores it reaches",
        name="scorecard",
    ),
)


@dataclass(frozen=True)
class StackFloor:
    """What of a stack's policy config the floor keeps beyond parameters."""

    # Policies its policy config may not set below mandatory; None: every policy of the pack.
    mandatory_policies: frozenset[str] | None
    reason: str


STACK_FLOORS: dict[str, StackFloor] = {
    "prod": StackFloor(None, "every policy of the pack blocks a prod change"),
    "staging": StackFloor(
        frozenset(
            {
                "github-secret-scanning",
                "github-repository-protected",
                "github-single-stack-ownership",
                "k8s-images-pinned",
                "k8s-pod-security-restricted",
            }
        ),
        "staging tries changes out, advisory, but never leaks a secret, unprotects a "
        "repository, shares one with another stack or runs an unpinned or privileged pod",
    ),
}


def floor_stack(stack: str) -> str:
    """The stack whose floor `stack` is held to."""
    return stack if stack in STACK_FLOORS else DEFAULT_STACK


def stack_floor(stack: str) -> StackFloor:
    return STACK_FLOORS[floor_stack(stack)]


def bounds(stack: str) -> Iterator[tuple[Minimum, Bound]]:
    """Every row of the table with a bound on `stack`."""
    own = floor_stack(stack)
    for row in TABLE:
        if own in row.stacks:
            yield row, row.stacks[own]


def parameter_bounds(stack: str) -> dict[tuple[str, str], tuple[Minimum, Bound]]:
    """(policy, parameter) -> its row and bound on `stack`."""
    return {
        parameter: (row, bound)
        for row, bound in bounds(stack)
        if (parameter := row.parameter) is not None
    }


def parameter_values(stack: str) -> dict[str, dict[str, Any]]:
    """The parameters each policy of `stack`'s policy config is given (from the table)."""
    values: dict[str, dict[str, Any]] = {}
    own = floor_stack(stack)
    for row in TABLE:
        parameter = row.parameter
        if parameter is None:
            continue
        value = row.stacks[own].value if own in row.stacks else row.otherwise
        if value is not None:
            values.setdefault(parameter[0], {})[parameter[1]] = value
    return values


def floored_parameters() -> list[tuple[str, str]]:
    """Every (policy, parameter) the table sets."""
    return [parameter for row in TABLE if (parameter := row.parameter) is not None]


def pack_defaults() -> dict[str, dict[str, Any]]:
    """The pack's own parameter defaults: the floor of the default stack (prod's), so that a
    policy run without a policy config holds what a stack without a floor is held to."""
    return parameter_values(DEFAULT_STACK)


def _field(model: BaseModel, alias: str) -> Any:
    for name, info in type(model).model_fields.items():
        if alias in (name, info.alias):
            return getattr(model, name)
    raise KeyError(alias)


def values_at(node: Any, parts: list[str], path: str) -> Iterator[tuple[str, Any]]:
    """Each concrete key matching `parts` below `node`, with its value (None where a mapping
    has no such entry); nothing below an absent optional section or another strategy's keys."""
    if not parts:
        yield path, node
        return
    part, rest = parts[0], parts[1:]
    join = f"{path}." if path else ""
    if isinstance(node, dict):
        names = sorted(node) if part.startswith("<") else [part]
        for name in names:
            yield from values_at(node.get(name), rest, f"{join}{name}")
    elif isinstance(node, BaseModel):
        try:
            value = _field(node, part)
        except KeyError:
            return
        if value is not None or not rest:
            yield from values_at(value, rest, f"{join}{part}")


def _repository_problems(
    config: StackConfig, row: Minimum, bound: Bound, stack: str, own: str
) -> list[ConfigProblem]:
    assert config.github is not None
    setting = row.key.removeprefix(REPOSITORY)
    problems = []
    for repo, settings in sorted(config.github.settings.items()):
        found = values_at(settings, setting.split("."), "")
        if row.whole:  # judged on all the repository's settings, named at the row's key
            found = iter([(setting, settings)])
        for key, value in found:
            if not bound.holds(value):
                where = config.github.layer_setting(repo, key)
                problems.append(
                    ConfigProblem(
                        where,
                        f"below the security floor of stack '{stack}'{own}: must be "
                        f"{bound.words}; {row.reason}",
                    )
                )
    return problems


def floor_problems(stack: str, config: StackConfig) -> list[ConfigProblem]:
    """Every setting of `config` below the floor of `stack`, each with the floor's reason."""
    own = "" if stack in STACK_FLOORS else " (a stack without a floor of its own gets prod's)"
    problems = []
    for row, bound in bounds(stack):
        if row.key.startswith(POLICY):
            continue  # held in the policy config (infractl.policy.config)
        if row.key.startswith(REPOSITORY):
            if config.github is not None:
                problems += _repository_problems(config, row, bound, stack, own)
            continue
        problems += [
            ConfigProblem(
                key,
                f"below the security floor of stack '{stack}'{own}: must be {bound.words}; "
                f"{row.reason}",
            )
            for key, value in values_at(config, row.key.split("."), "")
            if not bound.holds(value)
        ]
    return problems


def rows_for(key: str) -> list[Minimum]:
    """The rows of the table that hold `key` (a pattern with `<...>`, or a concrete key)."""

    def match(pattern: str) -> bool:
        a, b = pattern.split("."), key.split(".")
        return len(a) == len(b) and all(
            x == y or x.startswith("<") or y.startswith("<") for x, y in zip(a, b, strict=True)
        )

    return [row for row in TABLE if match(row.key)]
