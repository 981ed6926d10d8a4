"""Pending changes (a preview, or a plan against a base commit) ranked for a reviewer: each
changed property with its old and new value, ranked by the drift severity rules
(drift_rules.toml), and for the settings the security floor covers, whether it weakens or
strengthens them.

A value's strength is this module's concern; which settings have a floor, and the config key
that sets each, are infra/config/floor.py's (`DIRECTIONS` names its entries; a test holds the
two together).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

from infractl.ops.engine_output import MISSING, Change, EngineReport, split_path
from infractl.ops.severity import (
    GONE_PREFIX,
    SEVERITIES,
    UNCLASSIFIED,
    Classifier,
    Finding,
    Program,
)

WEAKENS, STRENGTHENS = "weakens", "strengthens"
REPLACED = "the resource is replaced: deleted, then created anew"
DELETED = "the resource is deleted"
UNNAMED = "changed; the engine output names no property"
NEW = "a new resource"
# Ranks in the order a reviewer reads them: most severe first, weakenings before the rest.
RANK = {s: i for i, s in enumerate(SEVERITIES)}
# drift_rules.toml's words for a resource gone without a rule of its own.
GONE = "the resource no longer exists"

Strength = Callable[[Any], float | None]


def _absent(value: Any) -> bool:
    return value is MISSING or value is None


def more(value: Any) -> float | None:
    """Numbers: more is stronger (approvals, replicas); absent counts as none."""
    if _absent(value):
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def count(value: Any) -> float | None:
    """Lists: more entries is stronger (required checks, reviewers)."""
    return 0.0 if _absent(value) else float(len(value)) if isinstance(value, list) else None


def fewer(value: Any) -> float | None:
    """Lists: fewer entries is stronger (bypass actors)."""
    n = count(value)
    return None if n is None else -n


def true(value: Any) -> float | None:
    """On is stronger; GitHub and Kubernetes leave an absent switch off."""
    return 0.0 if _absent(value) else float(value) if isinstance(value, bool) else None


def false(value: Any) -> float | None:
    """Off is stronger (admins may bypass, workflows may approve)."""
    n = true(value)
    return None if n is None else -n


def ranked(*weakest_first: str | tuple[str, ...]) -> Strength:
    """Named levels, weakest first (a tuple: levels of equal strength)."""
    levels = {v: i for i, group in enumerate(weakest_first) for v in _group(group)}
    return lambda v: float(levels[v]) if isinstance(v, str) and v in levels else None


def _group(group: str | tuple[str, ...]) -> tuple[str, ...]:
    return (group,) if isinstance(group, str) else group


@dataclass(frozen=True)
class Direction:
    """A property that carries a setting the floor covers, and how its values order."""

    floor: str  # the floor's entry: a Guard's name, or a policy whose parameter it floors
    type: str  # glob on the resource type
    path: str  # property path; each segment a glob, `[*]` any index
    strength: Strength

    def judge(self, type_: str, path: str, old: Any, new: Any) -> tuple[float, float] | None:
        """The strength of `old` and `new` if this is the property changed (None if not, or
        if either cannot be ordered). Lists change one entry at a time (drift's leaves):
        `bypassActors[2]` added or removed is one entry more or fewer."""
        if not fnmatchcase(type_, self.type):
            return None
        want = split_path(self.path.replace("[*]", '["*"]'))
        have = split_path(path)
        if not all(fnmatchcase(str(h), str(w)) for h, w in zip(have, want, strict=False)):
            return None
        if (
            len(have) == len(want) + 1
            and isinstance(have[-1], int)
            and self.strength in (count, fewer)
        ):
            old, new = ([] if old is MISSING else [old]), ([] if new is MISSING else [new])
        elif len(have) != len(want):
            return None
        before, after = self.strength(old), self.strength(new)
        return None if before is None or after is None else (before, after)


RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
REPOSITORY = "github:index/repository:Repository"
PULL_REQUEST = "rules.pullRequest"
POD_SECURITY = 'metadata.labels["pod-security.kubernetes.io/enforce"]'
CONTAINER = "spec.template.spec.containers[*].securityContext"
DIRECTIONS: tuple[Direction, ...] = (
    Direction("ruleset-active", RULESET, "enforcement", ranked("disabled", "evaluate", "active")),
    Direction("bypass-actors", RULESET, "bypassActors", fewer),
    Direction("approvals", RULESET, f"{PULL_REQUEST}.requiredApprovingReviewCount", more),
    Direction("stale-reviews", RULESET, f"{PULL_REQUEST}.dismissStaleReviewsOnPush", true),
    Direction("last-push-approval", RULESET, f"{PULL_REQUEST}.requireLastPushApproval", true),
    Direction("code-owner-review", RULESET, f"{PULL_REQUEST}.requireCodeOwnerReview", true),
    Direction(
        "conversation-resolution", RULESET, f"{PULL_REQUEST}.requiredReviewThreadResolution", true
    ),
    Direction("required-checks", RULESET, "rules.requiredStatusChecks.requiredChecks", count),
    Direction(
        "strict-checks",
        RULESET,
        "rules.requiredStatusChecks.strictRequiredStatusChecksPolicy",
        true,
    ),
    *(
        Direction("history", RULESET, f"rules.{r}", true)
        for r in ("nonFastForward", "deletion", "requiredLinearHistory")
    ),
    Direction("visibility", REPOSITORY, "visibility", ranked("public", ("internal", "private"))),
    *(
        Direction(
            "secret-scanning",
            REPOSITORY,
            f"securityAndAnalysis.{s}.status",
            ranked("disabled", "enabled"),
        )
        for s in ("secretScanning", "secretScanningPushProtection")
    ),
    Direction("vulnerability-alerts", "github:index/repository*Alerts:*", "enabled", true),
    Direction("vulnerability-alerts", "github:index/repository*SecurityUpdates:*", "enabled", true),
    Direction(
        "actions-allow-list",
        "github:index/actionsRepositoryPermissions:*",
        "allowedActions",
        ranked("all", "selected", "local_only"),
    ),
    Direction(
        "sha-pinning", "github:index/actionsRepositoryPermissions:*", "shaPinningRequired", true
    ),
    Direction(
        "workflow-token",
        "github:index/workflowRepositoryPermissions:*",
        "defaultWorkflowPermissions",
        ranked("write", "read"),
    ),
    Direction(
        "workflow-token",
        "github:index/workflowRepositoryPermissions:*",
        "canApprovePullRequestReviews",
        false,
    ),
    Direction(
        "team-permissions",
        "github:index/teamRepository:*",
        "permission",
        ranked("admin", "maintain", "push", "triage", "pull"),
    ),
    *(
        Direction("production-environment", "github:index/repositoryEnvironment:*", p, s)
        for p, s in (("reviewers", count), ("preventSelfReview", true), ("canAdminsBypass", false))
    ),
    Direction("k8s-production-high-availability", "kubernetes:*", "spec.replicas", more),
    Direction(
        "k8s-production-high-availability", "kubernetes:autoscaling/*", "spec.minReplicas", more
    ),
    Direction(
        "k8s-pod-security-restricted",
        "kubernetes:core/v1:Namespace",
        POD_SECURITY,
        ranked("privileged", "baseline", "restricted"),
    ),
    Direction(
        "k8s-pod-security-restricted",
        "kubernetes:*",
        f"{CONTAINER}.allowPrivilegeEscalation",
        false,
    ),
    *(
        Direction("k8s-pod-security-restricted", "kubernetes:*", f"{CONTAINER}.{s}", true)
        for s in ("runAsNonRoot", "readOnlyRootFilesystem")
    ),
)


@functools.cache
def _directions(type_: str) -> tuple[Direction, ...]:
    return tuple(d for d in DIRECTIONS if fnmatchcase(type_, d.type))


def direction_of(type_: str, path: str, old: Any, new: Any) -> tuple[str, str]:
    """(WEAKENS or STRENGTHENS or "", the floor entry) for one changed property."""
    for d in _directions(type_):
        judged = d.judge(type_, path, old, new)
        if judged is not None:
            before, after = judged
            if before == after:
                return "", d.floor
            return (STRENGTHENS if after > before else WEAKENS), d.floor
    return "", ""


@dataclass(frozen=True)
class Row:
    """One pending change a reviewer reads: a property of a resource, or the resource itself
    (`path` "") when it is created, replaced or deleted."""

    change: Change
    path: str
    old: Any
    new: Any
    severity: str  # one of SEVERITIES, or EXPECTED
    why: str
    direction: str = ""  # WEAKENS / STRENGTHENS for a floor-covered setting
    floor: str = ""  # the floor entry that covers it
    forces_replacement: bool = False

    @property
    def order(self) -> tuple[int, int, int, str, str]:
        return (
            RANK.get(self.severity, len(RANK)),
            0 if self.direction == WEAKENS else 1,
            0 if self.path == "" else 1,
            self.change.name,
            self.path,
        )


def _forcing(change: Change) -> set[str]:
    """The properties the provider says force a replacement (detailed diff first, else the
    step's top-level keys)."""
    detailed = {d.path for d in change.diffs if d.replaces}
    return detailed or set(change.replace_keys)


def _under(path: str, prefixes: set[str]) -> bool:
    segments = split_path(path)
    return any(segments[: len(p)] == p for p in (split_path(x) for x in prefixes) if p)


def _row(change: Change, finding: Finding, forcing: set[str]) -> Row:
    direction, floor = direction_of(change.type, finding.path, finding.old, finding.new)
    return Row(
        change, finding.path, finding.old, finding.new, finding.severity, finding.why,
        direction, floor, bool(finding.path) and _under(finding.path, forcing),
    )  # fmt: skip


def _whole_resource(change: Change, finding: Finding, why: str) -> Row:
    return _row(change, replace(finding, old=MISSING, new=MISSING, why=why), set())


def rows_of(change: Change, classifier: Classifier) -> list[Row]:
    """The rows of one pending change: each changed property, and the resource itself when it
    is created, replaced or deleted."""
    if change.op == "create":
        # Only rules about a resource as a whole speak to a new one; a new resource they do not
        # name is low.
        whole = classifier.rank_resource(change)
        if whole.why == UNCLASSIFIED:
            return [_whole_resource(change, replace(whole, severity="low"), NEW)]
        return [_whole_resource(change, whole, whole.why)]
    if change.op == "delete":
        # The rules speak of drift ("is gone"); a pending delete says what it will do.
        gone = classifier.rank_resource(change)
        reason = gone.why.removeprefix(GONE_PREFIX)
        why = DELETED if reason == GONE else f"{DELETED}: {reason}"
        return [_whole_resource(change, gone, why)]
    forcing = _forcing(change)
    rows = [_row(change, f, forcing) for f in classifier.classify(change)]
    if not rows and change.op != "replace":
        # Some outputs name no changed property: the change is still shown, as a whole.
        rows = [_whole_resource(change, classifier.rank_resource(change), UNNAMED)]
    if change.op == "replace":
        # Ranked as the delete it begins with (a protected or governed resource gone).
        gone = classifier.rank_resource(replace(change, op="delete"))
        rows.insert(0, _whole_resource(change, gone, REPLACED))
    return rows


def rank(report: EngineReport, program: Program | None = None) -> list[Row]:
    """Every pending change of a preview, most severe first."""
    classifier = Classifier(program or Program())
    rows = [row for change in report.changes for row in rows_of(change, classifier)]
    return sorted(rows, key=lambda r: r.order)


def config_key(row: Row) -> str:
    """The stack setting behind a floor-covered GitHub property,
    `github.repositories.<repo>.<setting>` ("" where the floor names none)."""
    repository = row.change.inputs.get("repository") or row.change.inputs.get("name")
    if not row.floor or not row.change.type.startswith("github:") or not repository:
        return ""
    setting = _floor_settings().get(row.floor)
    return f"github.repositories.{repository}.{setting}" if setting else ""


@functools.cache
def _floor_settings() -> dict[str, str]:
    """Each floor entry's setting below `github.repositories.<repo>.` (an entry of several rows,
    as `history`: their common parent)."""
    import posixpath

    from infra.config.floor import REPOSITORY, TABLE

    keys: dict[str, list[str]] = {}
    for row in TABLE:
        if row.name and row.key.startswith(REPOSITORY):
            keys.setdefault(row.name, []).append(row.key.removeprefix(REPOSITORY).replace(".", "/"))
    return {name: posixpath.commonpath(paths).replace("/", ".") for name, paths in keys.items()}


def shown_value(value: Any) -> str:
    """A value as a user writes it: `1`, not `1.0`; strings bare; objects as compact JSON."""
    if value is MISSING:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(_whole(value), sort_keys=True, ensure_ascii=False, default=str)


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole(v) for v in value]
    return value
