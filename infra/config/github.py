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
    allow_squash_merge: bool = Field(True, description="Allow squash merging.")
    allow_rebase_merge: bool = Field(True, description="Allow rebase merging.")
    allow_merge_commit: bool = Field(
        False, description="Allow merge commits (they break a linear history)."
    )
    allow_auto_merge: bool = Field(
        True, description="Allow a pull request to merge itself once its checks pass."
    )
    delete_branch_on_merge: bool = Field(
        True, description="Delete a pull request's branch once it merged."
    )


class SecuritySettings(Model):
    secret_scanning: bool = Field(True, description="GitHub secret scanning.")
    push_protection: bool = Field(
        True, description="Refuse a push that contains a known kind of secret."
    )
    vulnerability_alerts: bool = Field(
        True, description="Dependabot alerts on vulnerable dependencies."
    )
    dependabot_security_updates: bool = Field(
        True, description="Dependabot pull requests that fix vulnerable dependencies."
    )
    # Private and internal repositories need these licences for the features listed in
    # infra/config/plans.py (secret scanning; dependency review and code scanning).
    secret_protection_licensed: bool = Field(
        False,
        description="The organisation's GitHub Secret Protection licence covers this non-public "
        "repository.",
    )
    code_security_licensed: bool = Field(
        False,
        description="The organisation's GitHub Code Security licence covers this non-public "
        "repository.",
    )


class BypassActor(Model):
    actor_type: Literal[
        "RepositoryRole", "Team", "Integration", "OrganizationAdmin", "DeployKey"
    ] = Field(description="What kind of actor may bypass the ruleset.")
    actor_id: Integer | None = Field(
        default=None,
        ge=0,
        description="The actor's numeric id (unset for OrganizationAdmin and DeployKey).",
    )
    bypass_mode: Literal["always", "pull_request", "exempt"] = Field(
        "pull_request",
        description="When the actor may bypass: always, only by pull request, or exempt from the "
        "rules.",
    )


class BranchRules(Model):
    enforcement: Literal["active", "disabled", "evaluate"] = Field(
        "active",
        description="Whether the default branch's ruleset is enforced (evaluate only reports).",
    )
    required_approvals: Integer = Field(
        default=1,
        ge=0,
        le=10,
        description="How many approving reviews a pull request needs before it merges.",
    )
    dismiss_stale_reviews: bool = Field(
        True, description="A new push dismisses the approvals given before it."
    )
    require_code_owner_review: bool = Field(
        False, description="The code owners of the changed files must approve."
    )
    require_last_push_approval: bool = Field(
        True, description="Someone other than the last pusher must approve."
    )
    required_checks: Annotated[list[Annotated[Text, Field(min_length=1)]], unique("check")] = Field(
        default_factory=lambda: list(DEFAULT_CHECKS),
        description="Status checks that must pass before merging.",
    )
    strict_checks: bool = Field(
        True, description="The branch must be up to date with the default branch before merging."
    )
    require_conversation_resolution: bool = Field(
        True, description="Every review conversation must be resolved before merging."
    )
    linear_history: bool = Field(True, description="Refuse merge commits on the default branch.")
    block_force_pushes: bool = Field(True, description="Refuse force pushes to the default branch.")
    block_deletion: bool = Field(True, description="Refuse deleting the default branch.")
    bypass_actors: list[BypassActor] = Field(
        default_factory=list, description="Who may bypass the ruleset (the floor keeps this empty)."
    )


class Ecosystem(Model):
    ecosystem: Literal[
        "pip", "uv", "github-actions", "docker", "docker-compose", "npm", "gomod", "cargo",
        "maven", "gradle", "nuget", "composer", "bundler", "terraform",
    ] = Field(description="The package manager Dependabot updates.")  # fmt: skip
    directory: Annotated[
        str, pattern(r"^/[A-Za-z0-9_.*/-]*$", "an absolute directory (glob) in the repository")
    ] = Field("/", description="The folder (a glob) of the manifests, from the root.")


def _default_ecosystems() -> list[Ecosystem]:
    return [Ecosystem(ecosystem=e) for e in ("pip", "github-actions", "docker")]


class DependabotSettings(Model):
    ecosystems: Annotated[
        list[Ecosystem], unique("ecosystem and directory", lambda e: (e.ecosystem, e.directory))
    ] = Field(
        default_factory=_default_ecosystems,
        min_length=1,
        description="The package ecosystems and folders Dependabot updates.",
    )
    interval: Literal["daily", "weekly", "monthly"] = Field(
        "weekly", description="How often Dependabot looks for version updates."
    )
    day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = (
        Field("monday", description="The weekday of weekly updates.")
    )
    time: Annotated[str, pattern(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "a time as HH:MM")] = Field(
        "06:00", description="When, in the time zone below, as HH:MM."
    )
    timezone: Annotated[
        str, pattern(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", "an IANA time zone")
    ] = Field("Etc/UTC", description="The IANA time zone of `time`.")
    open_pull_requests_limit: Integer = Field(
        default=10,
        ge=0,
        le=100,
        description="The most version-update pull requests open at once per ecosystem (0 turns "
        "them off).",
    )
    group_minor_and_patch: bool = Field(
        True, description="One pull request for all minor and patch updates of an ecosystem."
    )


class CodeOwner(Model):
    pattern: Annotated[
        str,
        pattern(
            r"^[A-Za-z0-9_.*?/\[\]-]+$",
            "a CODEOWNERS path pattern: letters, digits and _ . - / * ? [ ], no spaces",
        ),
        # In the type: a default named `pattern` would hide the function from the annotation.
        Field(description="A CODEOWNERS path pattern (gitignore rules)."),
    ]
    owners: list[Owner] = Field(
        min_length=1, description="Who owns the matching files: @org/team, @user or an email."
    )


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
    version: Annotated[
        str,
        pattern(
            r"^(([<>]=?|[~^=]) ?)?[0-9A-Za-z][0-9A-Za-z.*+-]{0,29}$",
            "a version or range such as 1.x, < 1.0 or >= 2.1",
        ),
    ] = Field(description="A version or range as SECURITY.md shows it: 1.x, < 1.0, >= 2.1.")
    supported: bool = Field(description="Whether the version still gets security fixes.")


class SecurityPolicy(Model):
    RENAMED: ClassVar[dict[str, str]] = {
        "responseHours": "responseTime, a duration in whole hours such as 48h"
    }

    contact: Email = Field(description="Where to report a vulnerability by email.")
    response_time: Annotated[Duration, Within("1h", "30d", step="1h")] = Field(
        "48h", description="How soon a report is acknowledged (SECURITY.md states it in hours)."
    )
    supported_versions: list[SupportedVersion] = Field(
        default_factory=lambda: [SupportedVersion(version="1.x", supported=True)],
        description="The versions SECURITY.md lists, and whether each gets fixes.",
    )


class Label(Model):
    name: Text = Field(
        min_length=1,
        max_length=50,
        description="The label's name (GitHub compares names without case).",
    )
    color: Annotated[str, pattern(r"^[0-9a-fA-F]{6}$", "six hex digits, no '#'")] = Field(
        description="The label's color as six hex digits, without '#'."
    )
    description: Text = Field(default="", max_length=100, description="What the label means.")


class TeamAccess(Model):
    team: Slug = Field(description="The team's slug in the organisation.")
    permission: Literal["pull", "triage", "push", "maintain", "admin"] = Field(
        description="What the team may do in the repository (the floor allows up to maintain)."
    )


class DeploymentEnvironment(Model):
    RENAMED: ClassVar[dict[str, str]] = {
        "waitTimerMinutes": "waitTimer, a duration in whole minutes such as 30m"
    }

    reviewers: Annotated[list[Slug], unique("reviewer")] = Field(
        default_factory=list,
        max_length=6,
        description="Team slugs (at most 6) who must approve a deployment.",
    )
    default_branch_only: bool = Field(
        False,
        description="Only the default branch may deploy (an explicit branch policy naming it).",
    )
    wait_timer: Annotated[Duration, Within(maximum="30d", step="1m")] = Field(
        "0m",
        description="How long a deployment waits before it starts (whole minutes, at most 30d).",
    )
    prevent_self_review: bool = Field(
        True, description="Whoever started a deployment cannot approve it."
    )
    can_admins_bypass: bool = Field(
        False, description="Admins may deploy without the reviewers (GitHub's own default is true)."
    )


def _not_verified(allowed: bool) -> bool:
    if allowed:
        raise ValueError(
            "must be false: Marketplace 'verified creator' actions would run beside the pinned "
            "allow-list, unpinned and unreviewed; add an action to actionPins instead"
        )
    return allowed


class ActionsSettings(Model):
    allowed_actions: Literal["all", "local_only", "selected"] = Field(
        "selected",
        description="Which actions workflows may use: all, local only, or selected (the pinned "
        "allow-list).",
    )
    github_owned_allowed: bool = Field(
        True, description="Actions of GitHub's own organisations are allowed beside the allow-list."
    )
    verified_allowed: Annotated[bool, AfterValidator(_not_verified)] = Field(
        False,
        description="Marketplace actions of verified creators allowed (must be false: add pins "
        "instead).",
    )
    sha_pinning_required: bool = Field(
        True, description="Every action must be pinned to a full commit SHA."
    )
    default_workflow_permissions: Literal["read", "write"] = Field(
        "read", description="What the workflow token may do unless a job asks for more."
    )
    can_approve_pull_requests: bool = Field(
        False, description="Workflows may approve pull requests."
    )


WorkflowName = Literal[
    "tests", "code-quality", "dependency-check", "docker-build", "codeql", "docs"
]
ALL_WORKFLOWS: list[WorkflowName] = [
    "tests", "code-quality", "dependency-check", "docker-build", "codeql", "docs",
]  # fmt: skip


class WorkflowSettings(Model):
    enabled: Annotated[list[WorkflowName], unique("workflow")] = Field(
        default_factory=lambda: list(ALL_WORKFLOWS),
        description="Which of the platform's workflows the repository gets.",
    )
    python_versions: Annotated[
        list[Annotated[str, pattern(r"^3\.[0-9]+$", "a Python version like 3.12")]],
        unique("version"),
    ] = Field(
        default_factory=lambda: ["3.11", "3.12"],
        min_length=1,
        description="The Python versions the tests run on.",
    )
    requirements_file: RelativePath = Field(
        "requirements-minimal.txt", description="The requirements file the workflows install from."
    )
    # Scorecard's Pinned-Dependencies counts a `--require-hashes` install as pinned.
    lock_file: RelativePath | None = Field(
        None,
        description="A hash-pinned lock of everything the workflows install (pip-compile "
        "--generate-hashes); installs then use --require-hashes (unset: by name).",
    )
    app_import: Annotated[
        str, pattern(r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$", "module:attribute")
    ] = Field(
        "main:app",
        description="The module:attribute of the FastAPI app whose OpenAPI document the docs "
        "workflow publishes.",
    )


class ManagedFiles(Model):
    # pullRequest: commit to a branch and open a PR, so the ruleset needs no bypass.
    # defaultBranch: commit straight to the default branch (bootstrap only;
    # docs/reference/repository-governance.md).
    via: Literal["pullRequest", "defaultBranch"] = Field(
        "pullRequest",
        description="How managed files reach the default branch: by pull request, or committed "
        "straight to it (bootstrap only).",
    )
    # Prefix of the branch: each content digest gets its own, `<branch>-<digest>`.
    branch: BranchName = Field(
        "tbcoin-platform/managed-files",
        description="The prefix of the branch each change of the managed files is proposed from.",
    )
    commit_author: Text = Field(
        default="tbcoin-platform[bot]",
        min_length=1,
        max_length=100,
        description="The author name of commits of managed files.",
    )
    commit_email: Email = Field(
        "tbcoin-platform-bot@users.noreply.github.com",
        description="The author email of commits of managed files.",
    )


class ExistingResources(Model):
    """What already exists on GitHub for a repository (written by `infractl adopt`): each is
    imported by the first `up` (Pulumi's `import` option, in the provider's id formats of
    infra/github/import_ids.py) instead of created. Leave it out for a repository to be created."""

    repository: bool = Field(
        default=False,
        description="The repository exists: import it and its per-repository settings (Actions "
        "and workflow permissions, vulnerability alerts, Dependabot security updates).",
    )
    ruleset_id: Integer | None = Field(
        default=None, ge=1, description="Id of the live ruleset that becomes the declared one."
    )
    labels: list[Annotated[Text, Field(min_length=1, max_length=50)]] | None = Field(
        default=None,
        description="Live labels that declared ones import (names compared without case); "
        "unset: read from GitHub at `up`.",
    )
    teams: dict[Slug, Integer] = Field(
        default_factory=dict, description="Team slug -> its numeric id, for access already granted."
    )
    environments: Annotated[list[Slug], unique("environment")] = Field(
        default_factory=list, description="Deployment environments that exist."
    )
    deployment_policies: dict[Slug, Integer] = Field(
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

    description: Text = Field(
        default="", max_length=350, description="The repository's description on GitHub."
    )
    visibility: Literal["public", "private", "internal"] = Field(
        "private", description="Who can see the repository."
    )
    homepage_url: HttpsUrl | None = Field(None, description="The repository's homepage link.")
    topics: Annotated[
        list[Annotated[str, pattern(r"^[a-z0-9][a-z0-9-]{0,49}$", "a GitHub topic")]],
        unique("topic"),
    ] = Field(default_factory=list, description="The repository's topics on GitHub.")
    has_issues: bool = Field(True, description="Issues are on.")
    has_discussions: bool = Field(True, description="Discussions are on.")
    has_wiki: bool = Field(False, description="The wiki is on.")
    has_projects: bool = Field(False, description="Projects are on.")
    default_branch: BranchName = Field(
        "main", description="The default branch, which the ruleset protects."
    )
    existing: ExistingResources = Field(
        default_factory=ExistingResources,
        description="What already exists on GitHub and is imported, not created (adopt).",
    )
    merge: MergeSettings = Field(
        default_factory=MergeSettings, description="Which merge methods pull requests may use."
    )
    security: SecuritySettings = Field(
        default_factory=SecuritySettings,
        description="Secret scanning, Dependabot alerts and updates, and the licences they need.",
    )
    branch_rules: BranchRules = Field(
        default_factory=BranchRules, description="The ruleset of the default branch."
    )
    dependabot: DependabotSettings = Field(
        default_factory=DependabotSettings,
        description="Dependabot version updates (.github/dependabot.yml).",
    )
    codeowners: Annotated[list[CodeOwner], unique("pattern", lambda c: c.pattern)] = Field(
        default_factory=list,
        description="CODEOWNERS lines; the last matching line owns a path (none given: "
        "team-leads own everything).",
    )
    security_policy: SecurityPolicy | None = Field(
        None, description="The SECURITY.md the platform commits (unset: none)."
    )
    # Texts in vendor/license-texts.
    license: Literal["Apache-2.0"] | None = Field(
        None, description="The SPDX id of a licence the platform commits as LICENSE."
    )
    labels: Annotated[list[Label], unique("label", lambda label: label.name.lower())] = Field(
        default_factory=list,
        description="Issue and pull request labels (Dependabot's labels among them).",
    )
    teams: Annotated[list[TeamAccess], unique("team", lambda t: t.team)] = Field(
        default_factory=list, description="Teams and what each may do in the repository."
    )
    environments: dict[Slug, DeploymentEnvironment] = Field(
        default_factory=dict,
        description="Deployment environments and who approves their deployments.",
    )
    actions: ActionsSettings = Field(
        default_factory=ActionsSettings, description="What GitHub Actions may run and do."
    )
    workflows: WorkflowSettings = Field(
        default_factory=WorkflowSettings, description="The CI workflows the platform commits."
    )
    pages: bool = Field(True, description="GitHub Pages publishes the docs workflow's site.")
    managed_files: ManagedFiles = Field(
        default_factory=ManagedFiles,
        description="How the files the platform manages are committed.",
    )


class ActionPin(Model):
    """A third-party action pinned to a full commit SHA; `version` is shown as a comment."""

    sha: Annotated[
        str, pattern(r"^[0-9a-f]{40}$", "a full 40-character commit SHA, not a tag or branch")
    ] = Field(description="The full 40-character commit SHA the action is pinned to.")
    # Shown as a comment beside the pin in every workflow: a tag, nothing that could end a line.
    version: Annotated[
        str, pattern(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$", "a release tag such as v4.2.2")
    ] = Field(description="The release tag of that commit, shown beside the pin.")
    keep_node20: Text | None = Field(
        default=None,
        min_length=1,
        description="Why an action (or one it nests) that runs on node20 stays pinned; "
        "required for those.",
    )


OwnerName = Annotated[str, pattern(r"^[A-Za-z0-9-]+$", "a GitHub organisation or user")]


class GitHubConfig(Model):
    owner: OwnerName = Field(
        description="The organisation (or user) that owns the governed repositories."
    )
    defaults: dict[str, Any] = Field(
        default_factory=dict,
        description="Repository settings every repository starts from (the first layer).",
    )
    groups: dict[Slug, dict[str, Any]] = Field(
        default_factory=dict,
        description="Named layers of repository settings, applied in the order a repository lists "
        "them.",
    )
    repositories: dict[RepoName, dict[str, Any]] = Field(
        min_length=1,
        description="The repositories this stack governs: each its groups and its own settings "
        "(the last layer).",
    )
    action_pins: dict[str, ActionPin] = Field(
        default_factory=dict,
        description="Third-party actions the workflows may use, each pinned to a commit SHA "
        "(owner/repo).",
    )

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

    def source(self, repo: str, key: str) -> str | None:
        """The last layer of `repo` that gives `key` (a setting's camelCase path), as its key
        prefix (`github.groups.<group>`); None when only the default applies."""
        found = None
        for prefix, layer in self.layers(repo):
            node: Any = layer
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node is not None:
                found = prefix
        return found

    def layer_setting(self, repo: str, key: str) -> str:
        """The full key where `key` of `repo` is set as written, or the repository's own key
        when only the default applies."""
        return f"{self.source(repo, key) or f'github.repositories.{repo}'}.{key}"

    # Filled once while parsing (model_post_init): the effective settings of every repository
    # whose layers are valid, and every problem found on the way.
    _settings: dict[str, RepositorySettings] = PrivateAttr(default_factory=dict)
    _problems: list[ConfigProblem] = PrivateAttr(default_factory=list)

    def model_post_init(self, context: Any, /) -> None:
        for repo in sorted(self.repositories):
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
        for label in ("dependencies", ECOSYSTEM_LABELS.get(eco.ecosystem, eco.ecosystem)):
            if label not in labels:
                problems.append(
                    ConfigProblem(
                        where("labels"),
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
