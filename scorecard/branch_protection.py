"""Branch-Protection of the default branch, from the declared rulesets.

Rulesets are read as clients/githubrepo/branches.go reads them (getActiveRuleSetsFrom: only
`active` enforcement; rulesMatchingBranch: `~DEFAULT_BRANCH`, `~ALL`, fnmatch on refs/heads/;
applyRepoRules: a ruleset with any bypass actor does not enforce admins;
mergeBranchProtectionRules: the most restrictive value wins). Probe outcomes follow
probes/* (requiresCodeOwnersReview needs a CODEOWNERS file in the repository), and the score
follows checks/evaluation/branch_protection.go (BranchProtection, computeFinalScore: five
tiers, each counted only once the previous one is complete).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from typing import Any

from scorecard.result import INCONCLUSIVE, MAX_SCORE, CheckResult

NAME = "Branch-Protection"
FOLLOWS = "checks/evaluation/branch_protection.go BranchProtection"

TRUE, FALSE, NOT_AVAILABLE = "True", "False", "NotAvailable"


@dataclass(frozen=True)
class Rule:
    """clients.BranchProtectionRule; None means Scorecard has no data for the setting."""

    allow_deletions: bool | None = None
    allow_force_pushes: bool | None = None
    enforce_admins: bool | None = None
    require_last_push_approval: bool | None = None
    up_to_date: bool | None = None
    contexts: tuple[str, ...] = ()
    pr_required: bool | None = None
    approvals: int | None = None
    dismiss_stale: bool | None = None
    code_owners: bool | None = None


def active_rulesets(rulesets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rulesets if str(r.get("enforcement", "")).lower() == "active"]


def matching(rulesets: list[dict[str, Any]], branch: str, default: bool) -> list[dict[str, Any]]:
    """rulesMatchingBranch."""
    ref = "refs/heads/" + branch
    found = []
    for ruleset in rulesets:
        if str(ruleset.get("target", "branch")).lower() != "branch":
            continue
        names = (ruleset.get("conditions") or {}).get("refName") or {}
        includes, excludes = names.get("includes") or [], names.get("excludes") or []
        if any(fnmatch.fnmatchcase(ref, pattern) for pattern in excludes):
            continue
        if not includes:
            if excludes:
                found.append(ruleset)
            continue
        for pattern in includes:
            if pattern == "~ALL" or (pattern == "~DEFAULT_BRANCH" and default):
                found.append(ruleset)
                break
            if fnmatch.fnmatchcase(ref, pattern):
                found.append(ruleset)
    return found


def _translate(ruleset: dict[str, Any]) -> Rule:
    """applyRepoRules for one ruleset, from the pulumi-github RepositoryRuleset inputs."""
    rules = ruleset.get("rules") or {}
    rule = Rule(
        allow_deletions=not rules.get("deletion", False),
        allow_force_pushes=not rules.get("nonFastForward", False),
        enforce_admins=not ruleset.get("bypassActors"),
        pr_required=False,
    )
    pull = rules.get("pullRequest")
    if pull is not None:
        rule = replace(
            rule,
            pr_required=True,
            dismiss_stale=pull.get("dismissStaleReviewsOnPush"),
            code_owners=pull.get("requireCodeOwnerReview"),
            require_last_push_approval=pull.get("requireLastPushApproval"),
            approvals=pull.get("requiredApprovingReviewCount"),
        )
    checks = rules.get("requiredStatusChecks") or {}
    contexts = tuple(c["context"] for c in checks.get("requiredChecks") or [] if c.get("context"))
    if contexts:
        rule = replace(
            rule, up_to_date=checks.get("strictRequiredStatusChecksPolicy"), contexts=contexts
        )
    return rule


def _stricter_false(base: bool | None, new: bool | None) -> bool | None:
    return new if base is None or new is False else base


def _stricter_true(base: bool | None, new: bool | None) -> bool | None:
    return new if base is None or new else base


def merge(base: Rule, new: Rule) -> Rule:
    """mergeBranchProtectionRules, mergeCheckRules, mergePullRequestReviews."""
    return Rule(
        allow_deletions=_stricter_false(base.allow_deletions, new.allow_deletions),
        allow_force_pushes=_stricter_false(base.allow_force_pushes, new.allow_force_pushes),
        enforce_admins=_stricter_false(base.enforce_admins, new.enforce_admins),
        require_last_push_approval=_stricter_true(
            base.require_last_push_approval, new.require_last_push_approval
        ),
        up_to_date=_stricter_true(base.up_to_date, new.up_to_date),
        contexts=base.contexts + tuple(c for c in new.contexts if c not in base.contexts),
        pr_required=_stricter_true(base.pr_required, new.pr_required),
        approvals=new.approvals
        if base.approvals is None or (base.approvals or 0) < (new.approvals or 0)
        else base.approvals,
        dismiss_stale=_stricter_true(base.dismiss_stale, new.dismiss_stale),
        code_owners=_stricter_true(base.code_owners, new.code_owners),
    )


def branch_rule(rulesets: list[dict[str, Any]], branch: str, default: bool) -> Rule | None:
    """getBranchRefFrom with rulesets only: None when no active ruleset protects the branch."""
    applicable = matching(active_rulesets(rulesets), branch, default)
    if not applicable:
        return None
    rule = Rule()
    for ruleset in applicable:
        rule = merge(rule, _translate(ruleset))
    return rule


def _bool(value: bool | None) -> str:
    return NOT_AVAILABLE if value is None else (TRUE if value else FALSE)


@dataclass(frozen=True)
class BranchFindings:
    """The eleven probes' outcomes for one branch (and the approval count)."""

    outcomes: dict[str, str]
    approvals: int = 0
    messages: list[str] = field(default_factory=list)


def probe(rule: Rule | None, codeowners_files: bool) -> BranchFindings:
    r = rule or Rule()
    approvers = NOT_AVAILABLE if r.approvals is None else (TRUE if r.approvals > 0 else FALSE)
    if r.code_owners is None:
        code_owners = NOT_AVAILABLE
    else:
        code_owners = TRUE if r.code_owners and codeowners_files else FALSE
    outcomes = {
        "blocksDeleteOnBranches": _bool(
            None if r.allow_deletions is None else not r.allow_deletions
        ),
        "blocksForcePushOnBranches": _bool(
            None if r.allow_force_pushes is None else not r.allow_force_pushes
        ),
        "branchesAreProtected": _bool(rule is not None),
        "branchProtectionAppliesToAdmins": _bool(r.enforce_admins),
        "dismissesStaleReviews": _bool(r.dismiss_stale),
        "requiresApproversForPullRequests": approvers,
        "requiresCodeOwnersReview": code_owners,
        "requiresLastPushApproval": _bool(r.require_last_push_approval),
        "requiresUpToDateBranches": _bool(r.up_to_date),
        "runsStatusChecksBeforeMerging": TRUE if r.contexts else FALSE,
        "requiresPRsToChangeCode": _bool(r.pr_required),
    }
    messages = []
    if r.code_owners and not codeowners_files:
        messages.append("codeowners review is required - but no codeowners file found in repo")
    return BranchFindings(outcomes, r.approvals or 0, messages)


@dataclass
class _Tiers:
    scores: dict[str, int] = field(default_factory=dict)
    maxes: dict[str, int] = field(default_factory=dict)

    def add(self, tier: str, score: int, most: int) -> None:
        self.scores[tier] = self.scores.get(tier, 0) + score
        self.maxes[tier] = self.maxes.get(tier, 0) + most


def _branch_tiers(findings: BranchFindings) -> _Tiers:
    t = _Tiers()
    o = findings.outcomes
    for name in ("blocksDeleteOnBranches", "blocksForcePushOnBranches"):
        t.add("basic", o[name] == TRUE, 1)
    for name in ("dismissesStaleReviews", "branchProtectionAppliesToAdmins"):
        t.add("adminThoroughReview", o[name] == TRUE, o[name] != NOT_AVAILABLE)
    approvers = o["requiresApproversForPullRequests"]
    t.add("thoroughReview", approvers == TRUE and findings.approvals >= 2, 1)
    t.add("review", 2 if approvers == TRUE and findings.approvals > 0 else 0, 2)
    t.add("codeownerReview", o["requiresCodeOwnersReview"] == TRUE, 1)
    for name in ("requiresUpToDateBranches", "requiresLastPushApproval", "requiresPRsToChangeCode"):
        t.add("adminReview", o[name] == TRUE, o[name] != NOT_AVAILABLE)
    t.add("context", o["runsStatusChecksBeforeMerging"] == TRUE, 1)
    return t


# computeFinalScore: (points of the tier, the score groups it sums)
_LEVELS = (
    (3, ("basic",)),
    (3, ("review", "adminReview")),
    (2, ("context",)),
    (1, ("thoroughReview", "codeownerReview")),
    (1, ("adminThoroughReview",)),
)
_RAISE = (
    "block deletion and force pushes",
    "require pull requests with approvals, up-to-date branches and approval of the last push",
    "require status checks",
    "require two approvals and code-owner review (with a CODEOWNERS file on the branch)",
    "dismiss stale reviews and leave no bypass actors",
)


def final_score(branches: list[BranchFindings]) -> tuple[int, str | None]:
    """computeFinalScore over the branches; also the first incomplete tier's remedy."""
    tiers = [_branch_tiers(b) for b in branches]
    maxes = tiers[0].maxes
    score = 0.0
    for (level, groups), remedy in zip(_LEVELS, _RAISE, strict=True):
        most = sum(maxes.get(g, 0) for g in groups) * len(tiers)
        got = sum(t.scores.get(g, 0) for t in tiers for g in groups)
        score += level if most == 0 else got * level / most
        if got < most:
            return int(score), remedy
    return int(score), None


def evaluate(branches: dict[str, BranchFindings]) -> CheckResult:
    if not branches:
        return CheckResult(
            NAME, INCONCLUSIVE, "unable to detect any development/release branches", FOLLOWS
        )
    score, remedy = final_score(list(branches.values()))
    details = [f"{name}: {m}" for name, b in branches.items() for m in b.messages]
    details += [
        f"{name}: {probe_name} {outcome}"
        for name, b in branches.items()
        for probe_name, outcome in b.outcomes.items()
        if outcome != TRUE
    ]
    if score == 0:
        reason = "branch protection not enabled on development/release branches"
    elif score == MAX_SCORE:
        reason = "branch protection is fully enabled on development and all release branches"
    else:
        reason = "branch protection is not maximal on development and all release branches"
    return CheckResult(NAME, score, reason, FOLLOWS, details, [remedy] if remedy else [])
