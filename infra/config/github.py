"""Repository governance config, layered like safe-settings: org defaults <- groups <- repository.

Each layer is a partial `RepositorySettings`; layers are deep-merged (mappings merge, lists and
scalars replace) and the result validated once more, while the config is parsed: the model holds
the effective settings. Every layer is also validated on its own, so a mistake is reported at the
layer that made it, e.g. `github.groups.python.merge.alowSquash`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, ClassVar, Literal

import pydantic
from pydantic import AfterValidator, Field, PrivateAttr, field_validator
from pydantic.alias_generators import to_snake

from infra.config.base import (
    BranchName,
    Duration,
    Email,
    HttpsUrl,
    Integer,
    Model,
    RelativePath,
    Text,
    Within,
    pattern,
    unique,
)
from infra.config.checks import CONTROL_FEATURES, RequiredCheck, default_checks
from infra.config.code_scanning import CodeqlLanguage
from infra.config.dependabot import DependabotSettings, ecosystem_label
from infra.config.errors import ConfigProblem, problems_from_validation
from infra.config.plans import SETTING_FEATURES, missing_licence
from infra.config.targeting import (
    CustomProperty,
    PropertyName,
    Targets,
    order_problems,
    resolve_targets,
)


def _not_dots(name: str) -> str:
    if name in (".", ".."):
        raise ValueError(f"{name!r} is not a repository name")
    return name


RepoName = Annotated[
    str,
    pattern(r"^[A-Za-z0-9._-]{1,100}$", "a GitHub repository name"),
    AfterValidator(_not_dots),
]
Slug = Annotated[str, pattern(r"^[a-z0-9][a-z0-9-]*$", "a lowercase slug")]
Owner = Annotated[
    str,
    pattern(
        r"^@[A-Za-z0-9-]+(/[A-Za-z0-9._-]+)?$|^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
        "@user, @org/team or email",
    ),
]


class MergeSettings(Model):
    # Squash and rebase keep history linear; merge commits would violate the linear-history rule.
    allow_squash_merge: bool = True
    allow_rebase_merge: bool = True
    allow_merge_commit: bool = False
    allow_auto_merge: bool = True
    delete_branch_on_merge: bool = True


class SecuritySettings(Model):
    secret_scanning: bool = True
    push_protection: bool = True
    vulnerability_alerts: bool = True
    dependabot_security_updates: bool = True
    # Private and internal repositories need these licences for the features listed in
    # infra/config/plans.py (secret scanning; dependency review and code scanning).
    secret_protection_licensed: bool = False
    code_security_licensed: bool = False


class BypassActor(Model):
    actor_type: Literal["RepositoryRole", "Team", "Integration", "OrganizationAdmin", "DeployKey"]
    actor_id: Integer | None = Field(default=None, ge=0)
    bypass_mode: Literal["always", "pull_request", "exempt"] = "pull_request"


class BranchRules(Model):
    enforcement: Literal["active", "disabled", "evaluate"] = "active"
    required_approvals: Integer = Field(default=1, ge=0, le=10)
    dismiss_stale_reviews: bool = True
    require_code_owner_review: bool = False
    require_last_push_approval: bool = True
    required_checks: Annotated[list[RequiredCheck], unique("check", lambda c: c.context)] = Field(
        default_factory=default_checks,
        description="Status checks that must pass before merging: a name (a managed workflow's "
        "check) or {context, external, integrationId, covers}.",
    )
    # "Require branches to be up to date before merging".
    strict_checks: bool = True
    require_conversation_resolution: bool = True
    linear_history: bool = True
    block_force_pushes: bool = True
    block_deletion: bool = True
    bypass_actors: list[BypassActor] = Field(default_factory=list)


class CodeOwner(Model):
    pattern: Annotated[
        str,
        pattern(
            r"^[A-Za-z0-9_.*?/\[\]-]+$",
            "a CODEOWNERS path pattern: letters, digits and _ . - / * ? [ ], no spaces",
        ),
    ]
    owners: list[Owner] = Field(min_length=1)


def default_codeowners(owner: str) -> list[CodeOwner]:
    """The CODEOWNERS of a repository whose config names none."""
    team = f"@{owner}/team-leads"
    return [
        CodeOwner(pattern="*", owners=[team]),
        # Workflows and ownership rules are the supply chain: the leads review every change.
        CodeOwner(pattern="/.github/", owners=[team]),
        CodeOwner(pattern="/SECURITY.md", owners=[team]),
    ]


# Team permissions that let a code owner approve (GitHub ignores an owner without write access).
WRITE_PERMISSIONS = ("push", "maintain", "admin")


def _codeowners_regex(pattern: str) -> re.Pattern[str]:
    """A CODEOWNERS pattern (gitignore rules) as a regex over a path or one of its folders."""
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    parts = re.split(r"(\*\*|\*|\?|\[[^\]]*\])", pattern.strip("/"))
    body = "".join(
        ".*" if p == "**" else "[^/]*" if p == "*" else "[^/]" if p == "?"
        else p if p.startswith("[") else re.escape(p)
        for p in parts
    )  # fmt: skip
    return re.compile(("" if anchored else "(?:.*/)?") + body)


def effective_owners(rules: list[CodeOwner], path: str) -> list[str]:
    """Who owns `path` (relative to the repository root): GitHub takes the *last* rule that
    matches, so a later line takes ownership back from an earlier one. [] if none matches."""
    folders = path.split("/")
    for rule in reversed(rules):
        regex = _codeowners_regex(rule.pattern)
        candidates = [
            "/".join(folders[: i + 1])
            for i in range(len(folders))
            if i < len(folders) - 1 or not rule.pattern.endswith("/")  # `dir/` matches folders
        ]
        if any(regex.fullmatch(c) for c in candidates):
            return list(rule.owners)
    return []


class SupportedVersion(Model):
    # A version or range as SECURITY.md's table shows it: "1.x", "< 1.0", ">= 2.1".
    version: Annotated[
        str,
        pattern(
            r"^(([<>]=?|[~^=]) ?)?[0-9A-Za-z][0-9A-Za-z.*+-]{0,29}$",
            "a version or range such as 1.x, < 1.0 or >= 2.1",
        ),
    ]
    supported: bool


class SecurityPolicy(Model):
    RENAMED: ClassVar[dict[str, str]] = {
        "responseHours": "responseTime, a duration in whole hours such as 48h"
    }

    contact: Email
    # How soon a report is acknowledged; SECURITY.md states it in hours.
    response_time: Annotated[Duration, Within("1h", "30d", step="1h")] = "48h"
    supported_versions: list[SupportedVersion] = Field(
        default_factory=lambda: [SupportedVersion(version="1.x", supported=True)]
    )


class Label(Model):
    name: Text = Field(min_length=1, max_length=50)
    color: Annotated[str, pattern(r"^[0-9a-fA-F]{6}$", "six hex digits, no '#'")]
    description: Text = Field(default="", max_length=100)


class TeamAccess(Model):
    team: Slug
    permission: Literal["pull", "triage", "push", "maintain", "admin"]


class DeploymentEnvironment(Model):
    RENAMED: ClassVar[dict[str, str]] = {
        "waitTimerMinutes": "waitTimer, a duration in whole minutes such as 30m"
    }

    # Team slugs (at most 6, GitHub's limit) who must approve deployments.
    reviewers: Annotated[list[Slug], unique("reviewer")] = Field(default_factory=list, max_length=6)
    # Only the default branch may deploy (an explicit branch policy naming it).
    default_branch_only: bool = False
    # How long a deployment waits before it starts; GitHub takes whole minutes, at most 30 days.
    wait_timer: Annotated[Duration, Within(maximum="30d", step="1m")] = "0m"
    prevent_self_review: bool = True
    # GitHub defaults this to true; false means admins wait for the reviewers like everyone.
    can_admins_bypass: bool = False


def _not_verified(allowed: bool) -> bool:
    if allowed:
        raise ValueError(
            "must be false: Marketplace 'verified creator' actions would run beside the pinned "
            "allow-list, unpinned and unreviewed; add an action to actionPins instead"
        )
    return allowed


class ActionsSettings(Model):
    allowed_actions: Literal["all", "local_only", "selected"] = "selected"
    github_owned_allowed: bool = True
    verified_allowed: Annotated[bool, AfterValidator(_not_verified)] = False
    sha_pinning_required: bool = True
    default_workflow_permissions: Literal["read", "write"] = "read"
    can_approve_pull_requests: bool = False


WorkflowName = Literal[
    "tests", "code-quality", "dependency-check", "dependency-review", "docker-build", "codeql",
    "docs",
]  # fmt: skip
ALL_WORKFLOWS: list[WorkflowName] = [
    "tests", "code-quality", "dependency-check", "docker-build", "codeql", "docs",
]  # fmt: skip


class WorkflowSettings(Model):
    enabled: Annotated[list[WorkflowName], unique("workflow")] = Field(
        default_factory=lambda: list(ALL_WORKFLOWS)
    )
    python_versions: Annotated[
        list[Annotated[str, pattern(r"^3\.[0-9]+$", "a Python version like 3.12")]],
        unique("version"),
    ] = Field(default_factory=lambda: ["3.11", "3.12"], min_length=1)
    requirements_file: RelativePath = "requirements-minimal.txt"
    # A hash-pinned lock of everything the workflows install (`pip-compile --generate-hashes`):
    # every install becomes `pip install --require-hashes -r <lockFile>`, which Scorecard's
    # Pinned-Dependencies counts as pinned. Without it installs are by name (lower score).
    lock_file: RelativePath | None = None
    codeql_languages: Annotated[list[CodeqlLanguage], unique("language")] = Field(
        default_factory=lambda: list[CodeqlLanguage](["python"]),
        min_length=1,
        description="What the managed codeql.yml analyses, in GitHub's CodeQL language "
        "identifiers (one job per language).",
    )
    # Import path of the FastAPI app whose OpenAPI document the docs workflow publishes.
    app_import: Annotated[
        str, pattern(r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$", "module:attribute")
    ] = "main:app"


class ManagedFiles(Model):
    # pullRequest: commit to a branch and open a PR, so the ruleset needs no bypass.
    # defaultBranch: commit straight to the default branch (bootstrap only;
    # docs/reference/repository-governance.md).
    via: Literal["pullRequest", "defaultBranch"] = "pullRequest"
    # Prefix of the branch: each content digest gets its own, `<branch>-<digest>`.
    branch: BranchName = "tbcoin-platform/managed-files"
    commit_author: Text = Field(default="tbcoin-platform[bot]", min_length=1, max_length=100)
    commit_email: Email = "tbcoin-platform-bot@users.noreply.github.com"


class ExistingResources(Model):
    """What already exists on GitHub for a repository (written by `infractl adopt`): each is
    imported by the first `up` (Pulumi's `import` option, in the provider's id formats of
    infra/github/import_ids.py) instead of created. Leave it out for a repository to be created."""

    repository: bool = Field(
        default=False,
        description="The repository exists: import it and its per-repository settings (Actions "
        "and workflow permissions, vulnerability alerts, Dependabot security updates).",
    )
    ruleset_id: int | None = Field(
        default=None, ge=1, description="Id of the live ruleset that becomes the declared one."
    )
    labels: list[Annotated[Text, Field(min_length=1, max_length=50)]] | None = Field(
        default=None,
        description="Live labels that declared ones import (names compared without case); "
        "unset: read from GitHub at `up`.",
    )
    teams: dict[Slug, int] = Field(
        default_factory=dict, description="Team slug -> its numeric id, for access already granted."
    )
    environments: Annotated[list[Slug], unique("environment")] = Field(
        default_factory=list, description="Deployment environments that exist."
    )
    deployment_policies: dict[Slug, int] = Field(
        default_factory=dict,
        description="Environment -> id of its live branch policy naming the default branch.",
    )
    pages: bool = Field(default=False, description="GitHub Pages is set up.")
    files: Annotated[list[RelativePath], unique("file")] = Field(
        default_factory=list,
        description="Managed files that exist on the default branch (managedFiles.via "
        "defaultBranch only: the pullRequest route writes to a branch of its own).",
    )


class RepositorySettings(Model):
    """The effective settings of one repository, after merging its layers."""

    RENAMED: ClassVar[dict[str, str]] = {
        "importExisting": "existing: {repository: true}; `infractl adopt` writes it with "
        "everything else that exists (docs/tutorials/adopt.md)"
    }

    description: Text = Field(default="", max_length=350)
    visibility: Literal["public", "private", "internal"] = "private"
    homepage_url: HttpsUrl | None = None
    topics: Annotated[
        list[Annotated[str, pattern(r"^[a-z0-9][a-z0-9-]{0,49}$", "a GitHub topic")]],
        unique("topic"),
    ] = Field(default_factory=list)
    has_issues: bool = True
    has_discussions: bool = True
    has_wiki: bool = False
    has_projects: bool = False
    default_branch: BranchName = "main"
    existing: ExistingResources = Field(
        default_factory=ExistingResources,
        description="What already exists on GitHub and is imported, not created (adopt).",
    )
    merge: MergeSettings = Field(default_factory=MergeSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    branch_rules: BranchRules = Field(default_factory=BranchRules)
    dependabot: DependabotSettings = Field(default_factory=DependabotSettings)
    codeowners: Annotated[list[CodeOwner], unique("pattern", lambda c: c.pattern)] = Field(
        default_factory=list
    )
    security_policy: SecurityPolicy | None = None
    # SPDX id of a licence the platform commits as LICENSE (texts in vendor/license-texts).
    license: Literal["Apache-2.0"] | None = None
    # GitHub compares label names without case.
    labels: Annotated[list[Label], unique("label", lambda label: label.name.lower())] = Field(
        default_factory=list
    )
    teams: Annotated[list[TeamAccess], unique("team", lambda t: t.team)] = Field(
        default_factory=list
    )
    environments: dict[Slug, DeploymentEnvironment] = Field(default_factory=dict)
    actions: ActionsSettings = Field(default_factory=ActionsSettings)
    workflows: WorkflowSettings = Field(default_factory=WorkflowSettings)
    pages: bool = True
    pre_commit: bool = Field(
        True,
        description="Manage .pre-commit-config.yaml, with the seed's Python hooks (black, isort, "
        "flake8 and file hygiene).",
    )
    managed_files: ManagedFiles = Field(default_factory=ManagedFiles)


class ActionPin(Model):
    """A third-party action pinned to a full commit SHA; `version` is shown as a comment."""

    sha: Annotated[
        str, pattern(r"^[0-9a-f]{40}$", "a full 40-character commit SHA, not a tag or branch")
    ]
    # Shown as a comment beside the pin in every workflow: a tag, nothing that could end a line.
    version: Annotated[
        str, pattern(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$", "a release tag such as v4.2.2")
    ]
    # Why an action (or one it nests) that runs on node20 stays pinned; required for those.
    keep_node20: Text | None = Field(default=None, min_length=1)


OwnerName = Annotated[str, pattern(r"^[A-Za-z0-9-]+$", "a GitHub organisation or user")]
# Keys of a repository's entry that are not settings: which groups it lists, and the values of
# its custom properties (its own, never layered: groups select on them).
REPOSITORY_KEYS = ("groups", "properties")


class GitHubConfig(Model):
    owner: OwnerName
    defaults: dict[str, Any] = Field(default_factory=dict)
    groups: dict[Slug, dict[str, Any]] = Field(default_factory=dict)
    repositories: dict[RepoName, dict[str, Any]] = Field(min_length=1)
    action_pins: dict[str, ActionPin] = Field(default_factory=dict)
    custom_properties: dict[PropertyName, CustomProperty] = Field(
        default_factory=dict,
        description="The organisation's custom properties this stack declares (and manages on "
        "GitHub): what repositories may set in `properties` and groups select on.",
    )

    @field_validator("action_pins")
    @classmethod
    def _pin_names(cls, pins: dict[str, ActionPin]) -> dict[str, ActionPin]:
        for name in pins:
            if not re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", name):
                raise ValueError(f"action names look like owner/repo, got {name!r}")
        return pins

    def layers(self, repo: str) -> list[tuple[str, dict[str, Any]]]:
        """(key prefix, settings) of each layer of `repo`, in merge order: the defaults, its
        groups (those it lists, then those that select it), its own entry."""
        layers = [("github.defaults", self.defaults)]
        for group in self._targets.groups.get(repo, []):
            layer = {k: v for k, v in self.groups.get(group, {}).items() if k != "select"}
            layers.append((f"github.groups.{group}", layer))
        own = {k: v for k, v in self.repositories[repo].items() if k not in REPOSITORY_KEYS}
        layers.append((f"github.repositories.{repo}", own))
        return layers

    def groups_of(self, repo: str) -> list[str]:
        """The groups whose layers `repo` takes, in merge order."""
        return list(self._targets.groups.get(repo, []))

    def property_values(self, repo: str) -> dict[str, list[str]]:
        """The custom-property values `repo`'s own entry sets (what the stack declares)."""
        return dict(self._targets.declared.get(repo, {}))

    # Filled once while parsing (model_post_init): the effective settings of every repository
    # whose layers are valid, and every problem found on the way.
    _settings: dict[str, RepositorySettings] = PrivateAttr(default_factory=dict)
    _problems: list[ConfigProblem] = PrivateAttr(default_factory=list)
    _targets: Targets = PrivateAttr(default_factory=Targets)

    def model_post_init(self, context: Any, /) -> None:
        self._targets = resolve_targets(self.groups, self.repositories, self.custom_properties)
        self._problems += self._targets.problems
        for repo in sorted(self.repositories):
            listed = self.repositories[repo].get("groups", [])
            groups = self.layers(repo)[1:-1]
            self._problems += order_problems(
                repo,
                listed if isinstance(listed, list) else [],
                [(name.removeprefix("github.groups."), layer) for name, layer in groups],
            )
            effective = self._resolve(repo)
            if effective is not None:
                self._settings[repo] = effective
                where = partial(self.written_at, repo)
                self._problems += settings_problems(where, effective)
                self._problems += self._foreign_owners(repo, effective)
                self._problems += self._access_problems(repo, effective)

    def _foreign_owners(self, repo: str, s: RepositorySettings) -> list[ConfigProblem]:
        # A team of another organisation cannot be granted review rights here: GitHub ignores
        # the line (the path is then unowned), or worse, outsiders own it.
        return [
            ConfigProblem(
                f"github.repositories.{repo}.codeowners[{i}].owners",
                f"{owner} is a team of another organisation; owners are teams of "
                f"@{self.owner}, users or emails",
            )
            for i, rule in enumerate(s.codeowners)
            for owner in rule.owners
            if "/" in owner and owner.split("/")[0].lower() != f"@{self.owner.lower()}"
        ]

    def written_at(self, repo: str, *path: str) -> str:
        """The key, as written, of the layer whose value of `path` (camelCase, as in YAML) the
        repository ends up with: the repository's own entry, else its last group that sets it,
        else the defaults; the repository's key when no layer sets it."""
        for prefix, layer in reversed(self.layers(repo)):
            node: Any = layer
            for key in path:
                node = node.get(key) if isinstance(node, dict) else None
            if node is not None:
                return ".".join((prefix, *path))
        return ".".join((f"github.repositories.{repo}", *path))

    def _access_problems(self, repo: str, s: RepositorySettings) -> list[ConfigProblem]:
        """Who the repository names to review must be able to: GitHub silently ignores a
        CODEOWNERS team without write access (the required code-owner review then requires
        nobody) and an environment reviewer without access to the repository."""
        granted = {t.team.lower(): t.permission for t in s.teams}
        teams_key = self.written_at(repo, "teams")
        org = f"@{self.owner.lower()}/"
        owned: dict[str, list[str]] = {}
        for rule in s.codeowners or default_codeowners(self.owner):
            for owner in rule.owners:
                if owner.lower().startswith(org):
                    owned.setdefault(owner[len(org) :], []).append(rule.pattern)
        problems = []
        for team, patterns in sorted(owned.items()):
            permission = granted.get(team.lower())
            if permission in WRITE_PERMISSIONS:
                continue
            has = f"has only {permission!r}" if permission else "has no access"
            problems.append(
                ConfigProblem(
                    teams_key,
                    f"CODEOWNERS names @{self.owner}/{team} for {', '.join(patterns)}, but the "
                    f"team {has} here: GitHub ignores a code owner without write access, so its "
                    "review would require nobody; grant it push, maintain or admin, or change "
                    "codeowners",
                )
            )
        problems += [
            ConfigProblem(
                self.written_at(repo, "environments", env, "reviewers"),
                f"team {reviewer!r} reviews deployments to {env!r} but has no access to this "
                f"repository: GitHub would not ask it; add it to {teams_key}",
            )
            for env, environment in sorted(s.environments.items())
            for reviewer in environment.reviewers
            if reviewer.lower() not in granted
        ]
        return problems

    @property
    def settings(self) -> dict[str, RepositorySettings]:
        """Effective settings per repository (every layer merged and validated)."""
        return self._settings

    def problems(self) -> list[ConfigProblem]:
        """What the layers got wrong, at the layer that made the mistake."""
        return list(self._problems)

    def _resolve(self, repo: str) -> RepositorySettings | None:
        groups = self.repositories[repo].get("groups", [])
        base = f"github.repositories.{repo}.groups"
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            self._problems.append(ConfigProblem(base, "must be a list of group names"))
            return None
        self._problems += [
            ConfigProblem(base, f"no group {g!r} in github.groups")
            for g in groups
            if g not in self.groups
        ]
        merged: dict[str, Any] = {}
        layer_failed = False
        for prefix, layer in self.layers(repo):
            try:
                RepositorySettings.model_validate(layer)
            except pydantic.ValidationError as exc:
                layer_failed = True
                self._problems += [
                    ConfigProblem(f"{prefix}.{p.path}" if p.path else prefix, p.message)
                    for p in problems_from_validation(RepositorySettings, exc)
                ]
            merged = deep_merge(merged, layer)
        if layer_failed:
            return None
        try:
            return RepositorySettings.model_validate(merged)
        except pydantic.ValidationError as exc:
            self._problems += [
                ConfigProblem(f"github.repositories.{repo}.{p.path}", p.message)
                for p in problems_from_validation(RepositorySettings, exc)
            ]
            return None


def settings_problems(where: Callable[..., str], s: RepositorySettings) -> list[ConfigProblem]:
    """Settings of one repository that contradict each other; `where(*path)` is the key of the
    layer that wrote a setting (GitHubConfig.written_at)."""
    problems = []
    sec = s.security
    for key, feature in SETTING_FEATURES.items():
        why = missing_licence(s, feature)
        if why and getattr(sec, to_snake(key)):
            problems.append(
                ConfigProblem(where("security", key), f"{why}, or set security.{key}: false")
            )
    if sec.push_protection and not sec.secret_scanning:
        problems.append(
            ConfigProblem(
                where("security", "pushProtection"), "needs security.secretScanning: true"
            )
        )
    if sec.dependabot_security_updates and not sec.vulnerability_alerts:
        problems.append(
            ConfigProblem(
                where("security", "dependabotSecurityUpdates"),
                "needs security.vulnerabilityAlerts: true",
            )
        )
    if s.branch_rules.linear_history and s.merge.allow_merge_commit:
        problems.append(
            ConfigProblem(
                where("merge", "allowMergeCommit"),
                "merge commits break branchRules.linearHistory; allow squash or rebase only",
            )
        )
    labels = {label.name for label in s.labels}
    for eco in s.dependabot.ecosystems:
        for label in ("dependencies", ecosystem_label(eco.ecosystem)):
            if label not in labels:
                problems.append(
                    ConfigProblem(
                        where("labels"),
                        f"Dependabot labels its {eco.ecosystem} PRs {label!r} (ecosystems of "
                        f"{where('dependabot', 'ecosystems')}), which is not a declared label",
                    )
                )
    for check in s.branch_rules.required_checks:
        for control in check.covers:
            why = missing_licence(s, CONTROL_FEATURES[control])
            if why:
                problems.append(
                    ConfigProblem(
                        where("branchRules", "requiredChecks"),
                        f"external check {check.context!r} stands for {control}, which cannot "
                        f"work here: {why}",
                    )
                )
    if "docs" in s.workflows.enabled and not s.pages:
        problems.append(
            ConfigProblem(
                where("pages"),
                "the managed docs workflow publishes to GitHub Pages, which this leaves off: set "
                "pages: true, or drop docs from workflows.enabled",
            )
        )
    return problems


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else in `override` replaces what `base` had."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
