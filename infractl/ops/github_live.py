"""What a governed repository looks like on GitHub now, read through the REST API (read-only).

One reader for `infractl adopt` (which writes it as config) and `infractl drift` (which compares a
ruleset's enforcement and bypass actors with the declared ones: the provider does not report
those, integrations/terraform-provider-github #3509, #2952). Requests per repository, at most
`requests_per_repository(E, R)`; every list is paged (100 a page; each further page one more).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from infra.github.settings.ruleset import DEFAULT_BRANCH, RULESET_NAME
from infractl.ops.github_api import GitHubApi

# GET repository, vulnerability-alerts, automated-security-fixes, labels, teams, environments,
# actions/permissions, selected-actions, actions/permissions/workflow, pages, rulesets, git tree.
FIXED_REQUESTS = 12


def requests_per_repository(environments: int, rulesets: int) -> int:
    """k: the most requests adopt makes for one repository with `environments` environments that
    have custom branch policies and `rulesets` branch rulesets, every list within one page."""
    return FIXED_REQUESTS + environments + rulesets


@dataclass
class LiveRepository:
    """The answers GitHub gave for one repository, as GitHub shapes them."""

    owner: str
    name: str
    repository: dict[str, Any]
    vulnerability_alerts: bool = False
    security_fixes: bool = False
    labels: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    environments: list[dict[str, Any]] = field(default_factory=list)
    # Environment name -> its branch policies ({id, name, type}).
    branch_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    actions: dict[str, Any] = field(default_factory=dict)
    selected_actions: dict[str, Any] | None = None
    workflow: dict[str, Any] = field(default_factory=dict)
    pages: dict[str, Any] | None = None
    ruleset: dict[str, Any] | None = None  # the one on the default branch, whole
    other_rulesets: list[str] = field(default_factory=list)  # names, left alone
    files: set[str] | None = None  # paths on the default branch, when asked

    @property
    def default_branch(self) -> str:
        return str(self.repository.get("default_branch") or "main")


def _path(owner: str, name: str, rest: str = "") -> str:
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}{rest}"


def targets_default_branch(ruleset: dict[str, Any], default_branch: str) -> bool:
    includes = ((ruleset.get("conditions") or {}).get("ref_name") or {}).get("include") or []
    return DEFAULT_BRANCH in includes or f"refs/heads/{default_branch}" in includes


def read_ruleset(
    api: GitHubApi, owner: str, name: str, default_branch: str
) -> tuple[dict[str, Any] | None, list[str]]:
    """The repository's own ruleset on the default branch (the program's name first), whole
    (with bypass actors: the token needs admin rights for them), and the names of the others."""
    listed = api.paginate(_path(owner, name, "/rulesets"), {"includes_parents": "false"})
    branch = [r for r in listed if r.get("target", "branch") == "branch"]
    branch.sort(key=lambda r: r.get("name") != RULESET_NAME)
    found = None
    for summary in branch:
        whole = api.get(_path(owner, name, f"/rulesets/{summary['id']}"))
        if targets_default_branch(whole, default_branch):
            found = whole
            break
    others = sorted(str(r.get("name")) for r in listed if found is None or r["id"] != found["id"])
    return found, others


def read_repository(
    api: GitHubApi, owner: str, name: str, *, with_files: bool = False
) -> LiveRepository:
    """Everything adopt writes about one repository. Raises ApiFailure (404: no such repository)."""
    repo = api.get(_path(owner, name))
    live = LiveRepository(owner, name, repo)
    live.vulnerability_alerts = api.exists(_path(owner, name, "/vulnerability-alerts"))
    fixes = api.get(_path(owner, name, "/automated-security-fixes"), missing_ok=True)
    live.security_fixes = bool(fixes and fixes.get("enabled"))
    live.labels = api.paginate(_path(owner, name, "/labels"))
    live.teams = api.paginate(_path(owner, name, "/teams"))
    live.environments = api.paginate(_path(owner, name, "/environments"), key="environments")
    for env in live.environments:
        policy = env.get("deployment_branch_policy") or {}
        if policy.get("custom_branch_policies"):
            env_path = f"/environments/{quote(env['name'], safe='')}/deployment-branch-policies"
            live.branch_policies[env["name"]] = api.paginate(
                _path(owner, name, env_path), key="branch_policies"
            )
    live.actions = api.get(_path(owner, name, "/actions/permissions"))
    if live.actions.get("allowed_actions") == "selected":
        live.selected_actions = api.get(_path(owner, name, "/actions/permissions/selected-actions"))
    live.workflow = api.get(_path(owner, name, "/actions/permissions/workflow"))
    live.pages = api.get(_path(owner, name, "/pages"), missing_ok=True)
    live.ruleset, live.other_rulesets = read_ruleset(api, owner, name, live.default_branch)
    if with_files:
        tree = api.get(
            _path(owner, name, f"/git/trees/{quote(live.default_branch, safe='')}"),
            {"recursive": "1"},
            missing_ok=True,  # an empty repository has no tree
        )
        live.files = {e["path"] for e in (tree or {}).get("tree", []) if e.get("type") == "blob"}
    return live


def organisation_repositories(api: GitHubApi, owner: str) -> list[str]:
    """Names of the organisation's repositories, archived ones left out."""
    listed = api.paginate(f"/orgs/{quote(owner, safe='')}/repos", {"type": "all"})
    return sorted(str(r["name"]) for r in listed if not r.get("archived"))
