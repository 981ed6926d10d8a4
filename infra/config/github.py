"""Repository governance config, layered like safe-settings: org defaults <- groups <- repository.

Each layer is a partial `RepositorySettings`; layers are deep-merged (mappings merge, lists and
scalars replace) and the result validated once more, while the config is parsed: the model holds
the effective settings. Every layer is also validated on its own, so a mistake is reported at the
layer that made it, e.g. `github.groups.python.merge.alowSquash`.
"""

from __future__ import annotations

import copy
import re
from typing import Annotated, Any, Literal

import pydantic
from pydantic import AfterValidator, Field, PrivateAttr, field_validator
from pydantic.alias_generators import to_snake

from infra.config.base import (
    BranchName,
    Email,
    HttpsUrl,
    Model,
    RelativePath,
    Text,
    pattern,
    unique,
)
from infra.config.errors import ConfigProblem, problems_from_validation
from infra.config.plans import SETTING_FEATURES, missing_licence


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

DEFAULT_CHECKS = ["Tests", "Code Quality", "Dependency Review"]
ECOSYSTEM_LABELS = {
    "pip": "python",
    "uv": "python",
    "github-actions": "github-actions",
    "docker": "docker",
    "docker-compose": "docker",
    "npm": "javascript",
}


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
    actor_id: int | None = Field(default=None, ge=0)
    bypass_mode: Literal["always", "pull_request", "exempt"] = "pull_request"


class BranchRules(Model):
    enforcement: Literal["active", "disabled", "evaluate"] = "active"
    required_approvals: int = Field(default=1, ge=0, le=10)
    dismiss_stale_reviews: bool = True
    require_code_owner_review: bool = False
    require_last_push_approval: bool = True
    required_checks: Annotated[list[Annotated[Text, Field(min_length=1)]], unique("check")] = Field(
        default_factory=lambda: list(DEFAULT_CHECKS)
    )
    # "Require branches to be up to date before merging".
    strict_checks: bool = True
    require_conversation_resolution: bool = True
    linear_history: bool = True
    block_force_pushes: bool = True
    block_deletion: bool = True
    bypass_actors: list[BypassActor] = Field(default_factory=list)


class Ecosystem(Model):
    ecosystem: Literal[
        "pip", "uv", "github-actions", "docker", "docker-compose", "npm", "gomod", "cargo",
        "maven", "gradle", "nuget", "composer", "bundler", "terraform",
    ]  # fmt: skip
    directory: Annotated[
        str, pattern(r"^/[A-Za-z0-9_.*/-]*$", "an absolute directory (glob) in the repository")
    ] = "/"


def _default_ecosystems() -> list[Ecosystem]:
    return [Ecosystem(ecosystem=e) for e in ("pip", "github-actions", "docker")]


class DependabotSettings(Model):
    ecosystems: Annotated[
        list[Ecosystem], unique("ecosystem and directory", lambda e: (e.ecosystem, e.directory))
    ] = Field(default_factory=_default_ecosystems, min_length=1)
    interval: Literal["daily", "weekly", "monthly"] = "weekly"
    day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = (
        "monday"
    )
    time: Annotated[str, pattern(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "a time as HH:MM")] = "06:00"
    timezone: Annotated[
        str, pattern(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", "an IANA time zone")
    ] = "Etc/UTC"
    open_pull_requests_limit: int = Field(default=10, ge=0, le=100)
    group_minor_and_patch: bool = True


class CodeOwner(Model):
    pattern: Annotated[
        str,
        pattern(
            r"^[A-Za-z0-9_.*?/\[\]-]+$",
            "a CODEOWNERS path pattern: letters, digits and _ . - / * ? [ ], no spaces",
        ),
    ]
    owners: list[Owner] = Field(min_length=1)


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
    contact: Email
    response_hours: int = Field(default=48, ge=1, le=720)
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
    # Team slugs (at most 6, GitHub's limit) who must approve deployments.
    reviewers: Annotated[list[Slug], unique("reviewer")] = Field(default_factory=list, max_length=6)
    # Only the default branch may deploy (an explicit branch policy naming it).
    default_branch_only: bool = False
    wait_timer_minutes: int = Field(default=0, ge=0, le=43200)
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
    "tests", "code-quality", "dependency-check", "docker-build", "codeql", "docs"
]
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
    # Import path of the FastAPI app whose OpenAPI document the docs workflow publishes.
    app_import: Annotated[
        str, pattern(r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$", "module:attribute")
    ] = "main:app"


class ManagedFiles(Model):
    # pullRequest: commit to a branch and open a PR, so the ruleset needs no bypass.
    # defaultBranch: commit straight to the default branch (bootstrap only; see README).
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
    managed_files: ManagedFiles = Field(default_factory=ManagedFiles)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "importExisting" in data:
            raise ValueError(
                "importExisting is now existing: {repository: true}; `infractl adopt` writes it "
                "with everything else that exists (docs/tutorials/adopt.md)"
            )
        return data


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


class GitHubConfig(Model):
    owner: OwnerName
    defaults: dict[str, Any] = Field(default_factory=dict)
    groups: dict[Slug, dict[str, Any]] = Field(default_factory=dict)
    repositories: dict[RepoName, dict[str, Any]] = Field(min_length=1)
    action_pins: dict[str, ActionPin] = Field(default_factory=dict)

    @field_validator("action_pins")
    @classmethod
    def _pin_names(cls, pins: dict[str, ActionPin]) -> dict[str, ActionPin]:
        for name in pins:
            if not re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", name):
                raise ValueError(f"action names look like owner/repo, got {name!r}")
        return pins

    def layers(self, repo: str) -> list[tuple[str, dict[str, Any]]]:
        entry = self.repositories[repo]
        groups = entry.get("groups", [])
        layers = [("github.defaults", self.defaults)]
        for group in groups if isinstance(groups, list) else []:
            layers.append((f"github.groups.{group}", self.groups.get(group, {})))
        own = {k: v for k, v in entry.items() if k != "groups"}
        layers.append((f"github.repositories.{repo}", own))
        return layers

    # Filled once while parsing (model_post_init): the effective settings of every repository
    # whose layers are valid, and every problem found on the way.
    _settings: dict[str, RepositorySettings] = PrivateAttr(default_factory=dict)
    _problems: list[ConfigProblem] = PrivateAttr(default_factory=list)

    def model_post_init(self, context: Any, /) -> None:
        for repo in sorted(self.repositories):
            effective = self._resolve(repo)
            if effective is not None:
                self._settings[repo] = effective
                self._problems += settings_problems(f"github.repositories.{repo}", effective)
                self._problems += self._foreign_owners(repo, effective)

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


def settings_problems(base: str, s: RepositorySettings) -> list[ConfigProblem]:
    """Settings of one repository that contradict each other (`base` is its key path)."""
    problems = []
    sec = s.security
    for key, feature in SETTING_FEATURES.items():
        why = missing_licence(s, feature)
        if why and getattr(sec, to_snake(key)):
            problems.append(
                ConfigProblem(f"{base}.security.{key}", f"{why}, or set security.{key}: false")
            )
    if sec.push_protection and not sec.secret_scanning:
        problems.append(
            ConfigProblem(f"{base}.security.pushProtection", "needs security.secretScanning: true")
        )
    if sec.dependabot_security_updates and not sec.vulnerability_alerts:
        problems.append(
            ConfigProblem(
                f"{base}.security.dependabotSecurityUpdates",
                "needs security.vulnerabilityAlerts: true",
            )
        )
    if s.branch_rules.linear_history and s.merge.allow_merge_commit:
        problems.append(
            ConfigProblem(
                f"{base}.merge.allowMergeCommit",
                "merge commits break branchRules.linearHistory; allow squash or rebase only",
            )
        )
    labels = {label.name for label in s.labels}
    for eco in s.dependabot.ecosystems:
        for label in ("dependencies", ECOSYSTEM_LABELS.get(eco.ecosystem, eco.ecosystem)):
            if label not in labels:
                problems.append(
                    ConfigProblem(
                        f"{base}.labels",
                        f"Dependabot labels its {eco.ecosystem} PRs {label!r}, which is not a "
                        "declared label",
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
