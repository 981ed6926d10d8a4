"""Repository governance: what every governed repository must have."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity

from scorecard.reads import READS as SCORECARD_READS
from tbcoin_policies.common import (
    NotWaivable,
    Waivable,
    counted,
    dig,
    floor_default,
    known,
    number,
    of_type,
    project_rule,
    resource_policy,
    scorecard,
    stack_policy,
)

AREA = "github"
REVIEWS, CHECKS = "github-ruleset-reviews", "github-ruleset-required-checks"
REPOSITORY = "github:index/repository:Repository"
RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
BRANCH_PROTECTION = "github:index/branchProtection:BranchProtection"
FILE = "github:index/repositoryFile:RepositoryFile"
ALERTS = "github:index/repositoryVulnerabilityAlerts:RepositoryVulnerabilityAlerts"
SECURITY_UPDATES = (
    "github:index/repositoryDependabotSecurityUpdates:RepositoryDependabotSecurityUpdates"
)
WORKFLOW_PERMISSIONS = "github:index/workflowRepositoryPermissions:WorkflowRepositoryPermissions"
CUSTOM_PROPERTY = "github:index/organizationCustomProperties:OrganizationCustomProperties"
DEFAULT_BRANCH = "~DEFAULT_BRANCH"
SHA_PINNED = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")


def _repo_names(resources: list[PolicyResource]) -> list[tuple[str, str]]:
    return [(str(r.props.get("name") or r.name), r.urn) for r in of_type(resources, REPOSITORY)]


def _covers_default_branch(ruleset: Mapping[str, Any]) -> bool:
    includes = dig(ruleset, "conditions", "refName", "includes", default=[])
    return ruleset.get("target") == "branch" and (DEFAULT_BRANCH in includes or "~ALL" in includes)


def _default_branch_rules(
    resources: list[PolicyResource], _: Mapping[str, Any]
) -> Iterable[tuple[str, str]]:
    covered = {
        str(r.props.get("repository"))
        for r in of_type(resources, RULESET)
        if _covers_default_branch(r.props) and r.props.get("enforcement") == "active"
    }
    covered |= {str(r.props.get("repositoryId")) for r in of_type(resources, BRANCH_PROTECTION)}
    for name, urn in _repo_names(resources):
        if name not in covered:
            yield f"Repository '{name}' has no active ruleset on its default branch.", urn


default_branch_ruleset = stack_policy(
    "github-default-branch-ruleset",
    area=AREA,
    description="Every repository's default branch is covered by an active ruleset.",
    severity=Severity.HIGH,
    standard=scorecard("Branch-Protection"),
    remediation="keep tbcoin-platform:github.<repo>.branchRules.enforcement 'active'.",
    types=(REPOSITORY, RULESET, BRANCH_PROTECTION),
    check=_default_branch_rules,
    key="github.repositories.{repository}.branchRules.enforcement",
    waiver=NotWaivable(
        "an unprotected default branch takes every other control with it: anyone who can push "
        "can change anything.",
        floor=("ruleset-active",),
    ),
)


def _reviews(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterable[str]:
    pr = dig(args.props, "rules", "pullRequest")
    minimum = int(config.get("requiredApprovals", floor_default(REVIEWS, "requiredApprovals")))
    if pr is None:
        yield "The ruleset does not require pull requests."
        return
    count = int(pr.get("requiredApprovingReviewCount") or 0)
    if count < minimum:
        yield (
            f"It requires {counted(count, 'approving review')}; this stack requires at least "
            f"{minimum}."
        )
    if not pr.get("dismissStaleReviewsOnPush"):
        yield "Approvals survive new pushes (stale reviews are not dismissed)."
    if not pr.get("requiredReviewThreadResolution"):
        yield "Conversations need not be resolved before merging."


ruleset_reviews = resource_policy(
    REVIEWS,
    area=AREA,
    description="Default-branch changes arrive by reviewed pull request.",
    severity=Severity.HIGH,
    standard=scorecard("Branch-Protection"),
    remediation="set branchRules.requiredApprovals (>= the stack's minimum), dismissStaleReviews "
    "and requireConversationResolution in the repository's config.",
    types=(RULESET,),
    check=_reviews,
    key="github.repositories.{repository}.branchRules.requiredApprovals",
    waiver=NotWaivable(
        "the floor sets the least review a change gets; a waiver would lower it for a repository.",
        floor=("approvals", "stale-reviews", "conversation-resolution"),
    ),
    properties={
        "requiredApprovals": {
            "type": "integer",
            "minimum": 0,
            "default": floor_default(REVIEWS, "requiredApprovals"),
            "description": "The fewest approving reviews a default-branch ruleset may require.",
        }
    },
)


def _history(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterable[str]:
    rules = args.props.get("rules") or {}
    if not rules.get("nonFastForward"):
        yield "Force pushes are allowed."
    if not rules.get("deletion"):
        yield "The branch can be deleted."
    if not rules.get("requiredLinearHistory"):
        yield "Merge commits are allowed (history is not linear)."


ruleset_history = resource_policy(
    "github-ruleset-history",
    area=AREA,
    description="Default-branch history cannot be rewritten, deleted or tangled.",
    severity=Severity.HIGH,
    standard=scorecard("Branch-Protection"),
    remediation="keep branchRules.blockForcePushes, blockDeletion and linearHistory true.",
    types=(RULESET,),
    check=_history,
    key="github.repositories.{repository}.branchRules",
    waiver=NotWaivable(
        "history rewritten or deleted is not restored when a waiver expires.", floor=("history",)
    ),
)


def _checks(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterable[str]:
    # By intent, not by name: repositories of any language and CI require checks of their own.
    status = dig(args.props, "rules", "requiredStatusChecks")
    checks = dig(status, "requiredChecks") or []
    minimum = config.get("minRequiredChecks", floor_default(CHECKS, "minRequiredChecks"))
    if len(checks) < minimum:
        yield f"Merging waits for {len(checks)} required status check(s), fewer than {minimum}."
    unbound = [str(c.get("context")) for c in checks if not c.get("integrationId")]
    if unbound:
        yield (
            "Required checks not bound to the app that reports them (any app, or anyone with "
            f"a token, could satisfy them): {', '.join(unbound)}."
        )
    if status is not None and not status.get("strictRequiredStatusChecksPolicy"):
        yield "Branches need not be up to date before merging."


ruleset_required_checks = resource_policy(
    CHECKS,
    area=AREA,
    description="Merging waits for required status checks, each bound to the app that reports "
    "it, on an up-to-date branch.",
    severity=Severity.HIGH,
    standard=scorecard("Branch-Protection"),
    remediation="list the checks in branchRules.requiredChecks (each is bound to its app) and "
    "keep strictChecks true.",
    types=(RULESET,),
    check=_checks,
    key="github.repositories.{repository}.branchRules.requiredChecks",
    waiver=NotWaivable(
        "merging without the required checks merges untested code; the floor keeps them.",
        floor=("required-checks",),
    ),
    properties={
        "minRequiredChecks": {
            "type": "integer",
            "minimum": 0,
            "default": floor_default(CHECKS, "minRequiredChecks"),
            "description": "The fewest required status checks a default-branch ruleset may have.",
        }
    },
)


def _bypass(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterable[str]:
    # Any mode is a standing exception: `pull_request` and `exempt` let the actor merge without
    # the reviews and checks everyone else needs.
    for actor in args.props.get("bypassActors") or []:
        yield (
            f"{actor.get('actorType')} {number(actor.get('actorId'))} may bypass the rules "
            f"(mode {actor.get('bypassMode')!r})."
        )


ruleset_bypass = resource_policy(
    "github-ruleset-no-standing-bypass",
    area=AREA,
    description="Nobody may bypass the default-branch rules, in any mode.",
    severity=Severity.MEDIUM,
    standard=scorecard("Branch-Protection"),
    remediation="remove the actor from branchRules.bypassActors.",
    types=(RULESET,),
    check=_bypass,
    key="github.repositories.{repository}.branchRules.bypassActors",
    waiver=NotWaivable(
        "a bypass actor is itself an exception with no reviewer and no expiry.",
        floor=("bypass-actors",),
    ),
)


def _secret_scanning(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterable[str]:
    sa = args.props.get("securityAndAnalysis") or {}
    if dig(sa, "secretScanning", "status") != "enabled":
        yield "Secret scanning is off."
    if dig(sa, "secretScanningPushProtection", "status") != "enabled":
        yield "Secret scanning push protection is off."


secret_scanning = resource_policy(
    "github-secret-scanning",
    area=AREA,
    description="Secret scanning and push protection are on.",
    severity=Severity.CRITICAL,
    standard=project_rule("secret-scanning"),
    remediation="set security.secretScanning and security.pushProtection true (private "
    "repositories also need security.secretProtectionLicensed).",
    types=(REPOSITORY,),
    check=_secret_scanning,
    key="github.repositories.{repository}.security",
    waiver=NotWaivable(
        "a credential pushed meanwhile is not un-leaked when a waiver expires.",
        floor=("secret-scanning",),
    ),
)


def _protected(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterable[str]:
    if not args.opts.protect:
        yield "The repository is not `protect`ed: a config change could delete it."
    if not args.props.get("archiveOnDestroy"):
        yield "Destroying the stack would delete the repository instead of archiving it."


repository_protected = resource_policy(
    "github-repository-protected",
    area=AREA,
    description="A governed repository is never deleted by Pulumi.",
    severity=Severity.CRITICAL,
    standard=project_rule("repository-retention"),
    remediation="register repositories with protect=True, retain_on_delete=True and "
    "archive_on_destroy=True (GovernedRepository does).",
    types=(REPOSITORY,),
    check=_protected,
    waiver=NotWaivable("a repository deleted meanwhile does not come back when a waiver expires."),
)


def _alerts(resources: list[PolicyResource], _: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    def enabled(kind: str) -> set[str]:
        return {
            str(r.props.get("repository"))
            for r in of_type(resources, kind)
            if r.props.get("enabled")
        }

    alerts, updates = enabled(ALERTS), enabled(SECURITY_UPDATES)
    for name, urn in _repo_names(resources):
        if name not in alerts:
            yield f"Repository '{name}' has no Dependabot vulnerability alerts.", urn
        if name not in updates:
            yield f"Repository '{name}' has no Dependabot security updates.", urn


vulnerability_alerts = stack_policy(
    "github-dependabot-alerts",
    area=AREA,
    description="Dependabot alerts and security updates are on for every repository.",
    severity=Severity.HIGH,
    standard=scorecard("Vulnerabilities"),
    remediation="keep security.vulnerabilityAlerts and security.dependabotSecurityUpdates true.",
    types=(REPOSITORY, ALERTS, SECURITY_UPDATES),
    check=_alerts,
    key="github.repositories.{repository}.security",
    waiver=NotWaivable(
        "the floor keeps vulnerability alerts and security updates on.",
        floor=("vulnerability-alerts",),
    ),
)


def _files_by_repo(resources: list[PolicyResource]) -> dict[str, dict[str, str]]:
    files: dict[str, dict[str, str]] = {}
    for r in of_type(resources, FILE):
        repo = str(r.props.get("repository"))
        files.setdefault(repo, {})[str(r.props.get("file"))] = str(r.props.get("content") or "")
    return files


def _ecosystems_needed(files: Mapping[str, str]) -> set[str]:
    """What a repository's managed workflows show it uses."""
    needed: set[str] = set()
    workflows = [c for p, c in files.items() if p.startswith(".github/workflows/")]
    if workflows:
        needed.add("github-actions")
    text = "\n".join(workflows)
    if "pip install" in text or "requirements" in text:
        needed.add("pip")
    if "docker/build-push-action" in text or "Dockerfile" in text:
        needed.add("docker")
    return needed


# Every repository of an estate carries the same managed files: each text is parsed once per
# process, not once per repository (the parse was most of the pack's time on a large stack).
@functools.lru_cache(maxsize=256)
def _updated_ecosystems(content: str) -> frozenset[Any]:
    """The package ecosystems a dependabot.yml text updates."""
    return frozenset(
        u.get("package-ecosystem") for u in (yaml.safe_load(content) or {}).get("updates", [])
    )


def _dependabot(resources: list[PolicyResource], _: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    files = _files_by_repo(resources)
    for name, urn in _repo_names(resources):
        repo_files = files.get(name, {})
        content = repo_files.get(".github/dependabot.yml")
        if content is None:
            yield f"Repository '{name}' has no managed .github/dependabot.yml.", urn
            continue
        missing = sorted(_ecosystems_needed(repo_files) - _updated_ecosystems(content))
        if missing:
            yield f"dependabot.yml of '{name}' does not update: {', '.join(missing)}.", urn


dependabot_coverage = stack_policy(
    "github-dependabot-covers-ecosystems",
    area=AREA,
    description="dependabot.yml updates every ecosystem the repository's workflows use.",
    severity=Severity.MEDIUM,
    standard=scorecard("Dependency-Update-Tool"),
    remediation="add the ecosystem to dependabot.ecosystems in the repository's config.",
    types=(REPOSITORY, FILE),
    check=_dependabot,
    key="github.repositories.{repository}.dependabot.ecosystems",
    waiver=Waivable(
        "the ecosystems are inferred from the workflows' text, which can name one the "
        "repository does not use; a missing version-update entry weakens no control in force."
    ),
)


def _policy_files(
    resources: list[PolicyResource], _: Mapping[str, Any]
) -> Iterable[tuple[str, str]]:
    files = _files_by_repo(resources)
    for name, urn in _repo_names(resources):
        present = set(files.get(name, {}))
        if "SECURITY.md" not in present:
            yield f"Repository '{name}' has no managed SECURITY.md.", urn
        if not present & {"CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"}:
            yield f"Repository '{name}' has no managed CODEOWNERS.", urn


security_files = stack_policy(
    "github-security-policy-and-owners",
    area=AREA,
    description="SECURITY.md and CODEOWNERS are managed in every repository.",
    severity=Severity.MEDIUM,
    standard=scorecard("Security-Policy"),
    remediation="give the repository a securityPolicy (contact, responseTime) in its config; "
    "CODEOWNERS is generated from codeowners (or the team-leads default).",
    types=(REPOSITORY, FILE),
    check=_policy_files,
    key="github.repositories.{repository}.securityPolicy",
    waiver=Waivable(
        "a repository can take its SECURITY.md from the organisation's .github repository "
        "while its own is written; CODEOWNERS is always generated."
    ),
)


def _token(resources: list[PolicyResource], _: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    settings = {str(r.props.get("repository")): r for r in of_type(resources, WORKFLOW_PERMISSIONS)}
    for name, urn in _repo_names(resources):
        perms = settings.get(name)
        if perms is None:
            yield f"Repository '{name}' leaves the default GITHUB_TOKEN permissions unmanaged.", urn
            continue
        if perms.props.get("defaultWorkflowPermissions") != "read":
            yield f"The default GITHUB_TOKEN of '{name}' can write.", perms.urn
        if perms.props.get("canApprovePullRequestReviews"):
            yield f"Workflows of '{name}' may approve pull requests.", perms.urn


workflow_token = stack_policy(
    "github-workflow-token-read-only",
    area=AREA,
    description="The default workflow token is read-only and cannot approve pull requests.",
    severity=Severity.HIGH,
    standard=scorecard("Token-Permissions"),
    remediation="keep actions.defaultWorkflowPermissions 'read' and "
    "actions.canApprovePullRequests false.",
    types=(REPOSITORY, WORKFLOW_PERMISSIONS),
    check=_token,
    key="github.repositories.{repository}.actions",
    waiver=NotWaivable(
        "a token that writes can change the code the checks passed.", floor=("workflow-token",)
    ),
)


def _uses(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uses" and isinstance(value, str):
                yield value
            else:
                yield from _uses(value)
    elif isinstance(node, list):
        for item in node:
            yield from _uses(item)


@functools.lru_cache(maxsize=256)
def _action_refs(content: str) -> tuple[str, ...]:
    """The actions a workflow text uses, in order (parsed once per text, as above)."""
    return tuple(_uses(yaml.safe_load(content)))


def _pinned(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterable[str]:
    path = str(args.props.get("file") or "")
    if not path.startswith(".github/workflows/"):
        return
    try:
        refs = _action_refs(str(args.props.get("content") or ""))
    except yaml.YAMLError as exc:
        yield f"{path} is not valid YAML ({exc.__class__.__name__})."
        return
    for ref in refs:
        if ref.startswith(("./", "docker://")):
            continue
        if not SHA_PINNED.fullmatch(ref):
            yield f"{path} uses {ref!r}, which is not pinned to a full commit SHA."


actions_pinned = resource_policy(
    "github-actions-pinned-by-sha",
    area=AREA,
    description="Every action a managed workflow uses is pinned to a full commit SHA.",
    severity=Severity.HIGH,
    standard=scorecard("Pinned-Dependencies"),
    remediation="add the action to tbcoin-platform:github.actionPins with its 40-hex commit SHA.",
    types=(FILE,),
    check=_pinned,
    key="github.actionPins",
    waiver=NotWaivable(
        "the repository setting the floor keeps (actions.shaPinningRequired) makes GitHub "
        "refuse an unpinned action anyway; the fix is a pin in github.actionPins.",
        floor=("sha-pinning",),
    ),
)


SCORECARD = "github-scorecard-floor"


def _scorecard_floor(
    resources: list[PolicyResource], config: Mapping[str, Any]
) -> Iterable[tuple[str, str]]:
    if not resources:
        return
    # Imported only for a stack with repositories: the engine waits for the pack's start-up.
    from scorecard.predict import predict_resources
    from scorecard.result import INCONCLUSIVE

    given = config.get("minimums") or floor_default(SCORECARD, "minimums")
    minimums = {str(k): int(v) for k, v in given.items()}
    urns = dict(_repo_names(resources))
    plain = [
        {"type": r.resource_type, "inputs": known(r, *SCORECARD_READS[r.resource_type])}
        for r in resources
    ]
    for prediction in predict_resources(plain):
        for check in prediction.checks:
            floor = minimums.get(check.name)
            # Inconclusive: nothing of the check's kind among the managed files (a repository
            # whose own CI runs its workflows has no managed workflow); Scorecard leaves such a
            # check out of its score, and the floor has nothing to hold.
            if floor is None or check.score == INCONCLUSIVE:
                continue
            if check.score is None or check.score < floor:
                shown = "not predictable" if check.score is None else f"{check.score}/10"
                why = "; ".join(check.to_raise) or check.reason
                yield (
                    f"Repository '{prediction.name}' predicts {check.name} {shown}, below "
                    f"{floor} ({why}).",
                    urns.get(prediction.name, ""),
                )


scorecard_floor = stack_policy(
    SCORECARD,
    area=AREA,
    description="Each repository's predicted OpenSSF Scorecard checks meet the stack's minimums.",
    severity=Severity.HIGH,
    standard=scorecard("Branch-Protection"),
    remediation="see `infractl scorecard --stack <stack>` for each check's reasons and what "
    "raises it.",
    types=tuple(SCORECARD_READS),
    check=_scorecard_floor,
    key="github.repositories.{repository}",
    waiver=NotWaivable(
        "its minimums are the floor's own (a policy parameter it holds); a waiver would lower "
        "the floor for a repository."
    ),
    properties={
        "minimums": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 10},
            "default": floor_default(SCORECARD, "minimums"),
            "description": "The least predicted score of each OpenSSF Scorecard check held; "
            "a check not listed is not held.",
        }
    },
)


def _ownership(
    resources: list[PolicyResource], config: Mapping[str, Any]
) -> Iterable[tuple[str, str]]:
    elsewhere = {str(k): str(v) for k, v in (config.get("ownedByOtherStacks") or {}).items()}
    for name, urn in _repo_names(resources):
        if name in elsewhere:
            yield f"Repository '{name}' is already governed by stack '{elsewhere[name]}'.", urn
    for r in of_type(resources, CUSTOM_PROPERTY):
        name = str(r.props.get("propertyName"))
        if (stack := elsewhere.get(f"customProperty:{name}")) is not None:
            yield f"Custom property '{name}' is already declared by stack '{stack}'.", r.urn


single_owner = stack_policy(
    "github-single-stack-ownership",
    area=AREA,
    description="No repository, and no organisation custom property, is governed by two stacks.",
    severity=Severity.CRITICAL,
    standard=project_rule("one-owner-per-repository"),
    remediation="remove the repository from one stack's tbcoin-platform:github.repositories "
    "(or the property from one stack's github.customProperties), then run `infractl policies "
    "sync-config`.",
    types=(REPOSITORY, CUSTOM_PROPERTY),
    check=_ownership,
    key="github.repositories.{repository}",
    waiver=NotWaivable(
        "two stacks governing one repository overwrite each other on every `up`; an expiry "
        "date does not stop that."
    ),
    properties={
        "ownedByOtherStacks": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "default": {},
            "description": "Repositories another stack governs, with that stack (written by "
            "`infractl policies sync-config`).",
        }
    },
)

POLICIES = [
    default_branch_ruleset,
    ruleset_reviews,
    ruleset_history,
    ruleset_required_checks,
    ruleset_bypass,
    secret_scanning,
    repository_protected,
    vulnerability_alerts,
    dependabot_coverage,
    security_files,
    workflow_token,
    actions_pinned,
    scorecard_floor,
    single_owner,
]
