"""`infractl adopt` against the GitHub API stand-in (Prism serving GitHub's own description; every
request it makes is validated there, every answer is in GitHub's shape): what it writes, the round
trip (adopt, then plan: every declared input equals the live value except the listed changes),
its request budget, and its failures (one line, exit 2, nothing written)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infractl.ops.github_live import requests_per_repository
from tests.conftest import infractl, load_stack, synth
from tests.github_standin import GitHub, documented, label, repository

OWNER = "tbcoin"
NAME = "payments-api"
LIVE_RULESET = 7
LIVE_POLICY = 361472
TEAM_ID = 4242


def _team(slug: str, team_id: int, permission: str) -> dict[str, Any]:
    team = documented("/repos/{owner}/{repo}/teams")[0]
    team.update(slug=slug, id=team_id, permission=permission, type="organization")
    return dict(team)


def _environment(name: str, reviewers: list[str], default_branch_only: bool) -> dict[str, Any]:
    env = documented("/repos/{owner}/{repo}/environments")["environments"][0]
    rules = [r for r in env["protection_rules"] if r["type"] == "required_reviewers"]
    team = {**documented("/repos/{owner}/{repo}/teams")[0], "type": "organization"}
    rules[0].update(
        prevent_self_review=True,
        reviewers=[{"type": "Team", "reviewer": {**team, "slug": s}} for s in reviewers],
    )
    env.update(
        name=name,
        can_admins_bypass=False,
        protection_rules=rules,
        deployment_branch_policy={"protected_branches": False, "custom_branch_policies": True}
        if default_branch_only
        else None,
    )
    return dict(env)


def _ruleset(approvals: int, bypass: list[dict[str, Any]]) -> dict[str, Any]:
    ruleset = documented("/repos/{owner}/{repo}/rulesets/{ruleset_id}")
    ruleset.update(
        id=LIVE_RULESET,
        name="main protection",
        target="branch",
        enforcement="active",
        bypass_actors=bypass,
        conditions={"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        rules=[
            {"type": "deletion"},
            {"type": "non_fast_forward"},
            {"type": "required_linear_history"},
            {
                "type": "pull_request",
                "parameters": {
                    "required_approving_review_count": approvals,
                    "dismiss_stale_reviews_on_push": True,
                    "require_code_owner_review": True,
                    "require_last_push_approval": True,
                    "required_review_thread_resolution": True,
                },
            },
            {
                "type": "required_status_checks",
                "parameters": {
                    "strict_required_status_checks_policy": True,
                    "required_status_checks": [
                        {"context": c} for c in ("Tests", "Code Quality", "Dependency Review")
                    ],
                },
            },
        ],
    )
    return dict(ruleset)


def live_estate(github: GitHub, name: str = NAME) -> None:
    """A private production repository as GitHub would answer for it: mostly governed already,
    with four things below prod's floor (1 approval, a bypass actor, verified Marketplace actions,
    a workflow token that may approve pull requests)."""
    path = f"/repos/{OWNER}/{name}"
    enabled = {"status": "enabled"}
    github.set(
        path,
        repository(
            f"{OWNER}/{name}", private=True, visibility="private",
            description="Payments API", topics=["python", "payments"], homepage=None,
            has_issues=True, has_discussions=True, has_wiki=False, has_projects=False,
            default_branch="main", allow_squash_merge=True, allow_rebase_merge=True,
            allow_merge_commit=False, allow_auto_merge=True, delete_branch_on_merge=True,
            security_and_analysis={"secret_scanning": enabled,
                                   "secret_scanning_push_protection": enabled},
        ),
    )  # fmt: skip
    github.set(f"{path}/vulnerability-alerts", None, 204)
    github.set(f"{path}/automated-security-fixes", {"enabled": True, "paused": False})
    github.set(
        f"{path}/labels",
        [label("dependencies", "0366d6", "Dependency updates"), label("bug", "d73a4a", "Bugs"),
         label("security", "ff0000", "Security")],
    )  # fmt: skip
    github.set(f"{path}/teams", [_team("team-leads", TEAM_ID, "maintain")])
    github.set(
        f"{path}/environments",
        {"total_count": 1, "environments": [_environment("production", ["team-leads"], True)]},
    )
    github.set(
        f"{path}/environments/production/deployment-branch-policies",
        {"total_count": 1, "branch_policies": [
            {"id": LIVE_POLICY, "node_id": "MDE2OkdhdGVCcmFuY2hQb2xpY3kzNjE0NzI=", "name": "main",
             "type": "branch"}]},
    )  # fmt: skip
    github.set(
        f"{path}/actions/permissions",
        {"enabled": True, "allowed_actions": "selected", "sha_pinning_required": True,
         "selected_actions_url": f"https://api.github.com/repos/{OWNER}/{name}/x"},
    )  # fmt: skip
    github.set(
        f"{path}/actions/permissions/selected-actions",
        {"github_owned_allowed": True, "verified_allowed": True, "patterns_allowed": []},
    )
    github.set(
        f"{path}/actions/permissions/workflow",
        {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": True},
    )
    github.set(
        f"{path}/pages", {**documented("/repos/{owner}/{repo}/pages"), "build_type": "workflow"}
    )
    bypass = [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
    whole = _ruleset(1, bypass)
    summary = {k: whole[k] for k in ("id", "name", "target", "source_type", "source",
                                     "enforcement", "node_id", "_links")}  # fmt: skip
    github.set(f"{path}/rulesets", [summary])
    github.set(f"{path}/rulesets/{LIVE_RULESET}", whole)


def _adopt(github: GitHub, out: Path, *args: str, token: str = "token") -> Any:
    env = {"GITHUB_API_URL": github.base}
    if token:
        env["GITHUB_TOKEN"] = token
    return infractl("adopt", "--owner", OWNER, "--stack", "prod", "--out", out, *args, env=env)


@pytest.fixture(scope="module")
def adopted(github_standin: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One adoption of the live estate (it synthesizes prod: shared by the tests that read it)."""
    github = github_standin.fresh()
    live_estate(github)
    out = tmp_path_factory.mktemp("adopt") / "adopted"
    run = _adopt(github, out, "--repo", NAME, "--group", "production-services")
    assert run.code == 0, run.stderr
    return github, out, run


def test_adopt_writes_config_imports_and_changes(adopted: tuple[GitHub, Path, Any]) -> None:
    _, out, run = adopted
    assert sorted(p.name for p in out.iterdir()) == [
        ".infractl-synth", "changes.md", "config.yaml", "import.json",
    ]  # fmt: skip
    layer = yaml.safe_load((out / "config.yaml").read_text())["tbcoin-platform:github"][
        "repositories"
    ][NAME]
    # Minimal: what the stack's defaults and the group give is left out (visibility, checks...).
    assert "visibility" not in layer and "merge" not in layer and "security" not in layer
    assert layer["description"] == "Payments API"
    assert layer["existing"] == {
        "repository": True, "rulesetId": LIVE_RULESET, "labels": ["dependencies", "security"],
        "teams": {"team-leads": TEAM_ID}, "environments": ["production"],
        "deploymentPolicies": {"production": LIVE_POLICY}, "pages": True,
    }  # fmt: skip
    changes = (out / "changes.md").read_text()
    for key in (
        "branchRules.requiredApprovals",
        "branchRules.bypassActors",
        "actions.verifiedAllowed",
        "actions.canApprovePullRequests",
        "labels.security",
    ):
        assert f"`{key}`" in changes, key  # fmt: skip
    assert "below the security floor of stack 'prod'" in changes
    assert "imports" in run.stdout and "GitHub requests" in run.stdout


def test_import_file_holds_the_programs_own_ids(adopted: tuple[GitHub, Path, Any]) -> None:
    _, out, _ = adopted
    imports = json.loads((out / "import.json").read_text())
    ids = {r["type"].rsplit(":", 1)[-1]: r["id"] for r in imports["resources"] if "id" in r}
    assert ids == {
        "Repository": NAME,
        "RepositoryRuleset": f"{NAME}:{LIVE_RULESET}",
        "IssueLabel": f"{NAME}:security",  # one of the two; both are checked below
        "TeamRepository": f"{TEAM_ID}:{NAME}",
        "RepositoryEnvironment": f"{NAME}:production",
        "RepositoryEnvironmentDeploymentPolicy": f"{NAME}:production:{LIVE_POLICY}",
        "ActionsRepositoryPermissions": NAME,
        "WorkflowRepositoryPermissions": NAME,
        "RepositoryVulnerabilityAlerts": NAME,
        "RepositoryDependabotSecurityUpdates": NAME,
        "RepositoryPages": NAME,
    }
    labels = sorted(r["id"] for r in imports["resources"] if r["type"].endswith("IssueLabel"))
    assert labels == [f"{NAME}:dependencies", f"{NAME}:security"]
    (component,) = [r for r in imports["resources"] if r.get("component")]
    assert component == {
        "type": "tbcoin:github:GovernedRepository",
        "name": NAME,
        "component": True,
    }
    assert imports["nameTable"] == {
        "github": "urn:pulumi:prod::tbcoin-platform::pulumi:providers:github::github"
    }


# --- the round trip: adopt, then plan ----------------------------------------------------------


def _adopted_stack(out: Path) -> dict[str, Any]:
    document = copy.deepcopy(load_stack("prod"))
    github = document["config"]["tbcoin-platform:github"]
    adopted = yaml.safe_load((out / "config.yaml").read_text())["tbcoin-platform:github"]
    github["repositories"].update(adopted["repositories"])
    return document


# Declared input (resource class, input path) -> the config key adopt states it with, and the live
# value as the provider reads it (its Read functions), from the stand-in's answers.
LIVE_INPUTS: dict[tuple[str, str], tuple[str, Any]] = {
    ("Repository", "description"): ("description", "Payments API"),
    ("Repository", "visibility"): ("visibility", "private"),
    ("Repository", "topics"): ("topics", ["python", "payments"]),
    ("Repository", "hasIssues"): ("hasIssues", True),
    ("Repository", "hasDiscussions"): ("hasDiscussions", True),
    ("Repository", "hasWiki"): ("hasWiki", False),
    ("Repository", "allowMergeCommit"): ("merge.allowMergeCommit", False),
    ("Repository", "allowSquashMerge"): ("merge.allowSquashMerge", True),
    ("Repository", "deleteBranchOnMerge"): ("merge.deleteBranchOnMerge", True),
    ("Repository", "securityAndAnalysis.secretScanning.status"): (
        "security.secretScanning", "enabled"),
    ("RepositoryRuleset", "enforcement"): ("branchRules.enforcement", "active"),
    ("RepositoryRuleset", "bypassActors"): ("branchRules.bypassActors", [
        {"actorId": 5, "actorType": "RepositoryRole", "bypassMode": "always"}]),
    ("RepositoryRuleset", "rules.pullRequest.requiredApprovingReviewCount"): (
        "branchRules.requiredApprovals", 1),
    ("RepositoryRuleset", "rules.pullRequest.requireCodeOwnerReview"): (
        "branchRules.requireCodeOwnerReview", True),
    ("RepositoryRuleset", "rules.pullRequest.dismissStaleReviewsOnPush"): (
        "branchRules.dismissStaleReviews", True),
    ("RepositoryRuleset", "rules.requiredLinearHistory"): ("branchRules.linearHistory", True),
    ("RepositoryRuleset", "rules.nonFastForward"): ("branchRules.blockForcePushes", True),
    ("TeamRepository", "permission"): ("teams", "maintain"),
    ("RepositoryEnvironment", "canAdminsBypass"): ("environments.production.canAdminsBypass",
                                                   False),
    ("RepositoryEnvironment", "preventSelfReview"): (
        "environments.production.preventSelfReview", True),
    ("ActionsRepositoryPermissions", "allowedActions"): ("actions.allowedActions", "selected"),
    ("ActionsRepositoryPermissions", "shaPinningRequired"): ("actions.shaPinningRequired", True),
    ("ActionsRepositoryPermissions", "allowedActionsConfig.verifiedAllowed"): (
        "actions.verifiedAllowed", True),
    ("WorkflowRepositoryPermissions", "defaultWorkflowPermissions"): (
        "actions.defaultWorkflowPermissions", "read"),
    ("WorkflowRepositoryPermissions", "canApprovePullRequestReviews"): (
        "actions.canApprovePullRequests", True),
    ("RepositoryVulnerabilityAlerts", "enabled"): ("security.vulnerabilityAlerts", True),
    ("RepositoryDependabotSecurityUpdates", "enabled"): (
        "security.dependabotSecurityUpdates", True),
}  # fmt: skip


def _input(inputs: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        inputs = inputs.get(part) if isinstance(inputs, dict) else None  # type: ignore[assignment]
    return inputs


def test_round_trip_every_input_is_live_except_the_listed_changes(
    adopted: tuple[GitHub, Path, Any],
) -> None:
    _, out, _ = adopted
    result, _ = synth("prod", _adopted_stack(out))
    declared = {
        r.type.rsplit(":", 1)[-1]: r.inputs
        for r in result.resources
        if r.options.get("parent", "").endswith(f"::{NAME}") and r.name.count("label") == 0
    }
    changes = (out / "changes.md").read_text()
    listed = {line.split("`")[1] for line in changes.splitlines() if line.startswith("| `")}
    differing = {
        key
        for (kind, path), (key, live) in LIVE_INPUTS.items()
        if _input(declared[kind], path) != live
    }
    assert differing == listed - {"labels.security"}, (differing, listed)
    # ...and each is a floor difference, named as one.
    assert differing == {
        "branchRules.requiredApprovals", "branchRules.bypassActors", "actions.verifiedAllowed",
        "actions.canApprovePullRequests",
    }  # fmt: skip
    labels = [r for r in result.resources if r.type.endswith("IssueLabel") and NAME in r.name]
    assert {r.inputs["name"]: r.options.get("import") for r in labels}["security"] == (
        f"{NAME}:security"
    )


def test_mutation_a_change_adopt_did_not_list_fails_the_round_trip(
    adopted: tuple[GitHub, Path, Any], tmp_path: Path
) -> None:
    """The round trip catches an adopt that writes a value other than the live one: the test
    above, run on a config with the description changed, finds an unlisted difference."""
    github, out, run = adopted
    copied = tmp_path / "adopted"
    shutil.copytree(out, copied)
    text = (copied / "config.yaml").read_text().replace("Payments API", "Payments")
    (copied / "config.yaml").write_text(text)
    with pytest.raises(AssertionError):
        test_round_trip_every_input_is_live_except_the_listed_changes((github, copied, run))


# --- budget and failures -----------------------------------------------------------------------


def test_requests_stay_within_k_per_repository(github: GitHub, tmp_path: Path) -> None:
    for name in ("svc-a", "svc-b", "svc-c"):
        live_estate(github, name)
    run = _adopt(
        github, tmp_path / "out", "--repo", "svc-a", "svc-b", "svc-c",
        "--group", "production-services",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    k = requests_per_repository(environments=1, rulesets=1)
    assert len(github.requests) <= k * 3
    assert f"{len(github.requests)} GitHub requests" in run.stdout


@pytest.mark.parametrize(
    ("setup", "args", "token", "expected"),
    [
        (None, ("--repo", NAME), "", "infractl: GITHUB_TOKEN is not set"),
        (None, ("--repo", "missing"), "token", "no repository tbcoin/missing on GitHub"),
        ("permission", ("--repo", NAME), "token", "the token needs the permission pages=read"),
        ("empty-org", (), "token", "--owner tbcoin: the organisation has no repositories"),
        ("exists", ("--repo", NAME), "token", "not empty; pass --force to replace it"),
        (None, ("--repo", "../x"), "token", "--repo '../x': not a GitHub name"),
    ],
    ids=["no-token", "no-repository", "permission", "empty-organisation", "out-exists", "bad-name"],
)
def test_each_failure_is_one_line_exit_2_and_writes_nothing(
    github: GitHub, tmp_path: Path, setup: str | None, args: tuple[str, ...], token: str,
    expected: str,
) -> None:  # fmt: skip
    live_estate(github)
    github.set(f"/repos/{OWNER}/missing", {"message": "Not Found"}, 404)
    out = tmp_path / "out"
    if setup == "permission":
        github.set(
            f"/repos/{OWNER}/{NAME}/pages", {"message": "Resource not accessible by personal "
            "access token"}, 403, {"X-Accepted-GitHub-Permissions": "pages=read"},
        )  # fmt: skip
    if setup == "empty-org":
        github.set(f"/orgs/{OWNER}/repos", [])
    if setup == "exists":
        out.mkdir()
        (out / "mine.txt").write_text("keep")
    run = _adopt(github, out, *args, token=token)
    assert run.code == 2, run.stderr
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert expected in run.stderr
    assert "token" not in run.stderr.replace("the token", "").replace("GITHUB_TOKEN", "")
    assert (not out.exists()) or sorted(p.name for p in out.iterdir()) == ["mine.txt"]


def test_inventory_lists_the_repositories_no_stack_governs(github: GitHub, tmp_path: Path) -> None:
    names = ["tbcoin-engine-ml", "tbcoin-platform-sandbox", "payments-api", "old"]
    repos = [repository(f"{OWNER}/{n}", archived=n == "old") for n in names]
    github.set(f"/orgs/{OWNER}/repos", repos)
    out = tmp_path / "inventory"
    run = _adopt(github, out)
    assert run.code == 0, run.stderr
    listed = (out / "inventory.md").read_text()
    assert "- `payments-api`" in listed
    assert "tbcoin-engine-ml" not in listed and "sandbox" not in listed and "`old`" not in listed
    assert run.stdout.startswith("1 of 3 repositories of tbcoin are governed by no stack")


def test_force_replaces_an_earlier_adopt_and_nothing_else(github: GitHub, tmp_path: Path) -> None:
    github.set(f"/orgs/{OWNER}/repos", [repository(f"{OWNER}/payments-api")])
    out = tmp_path / "inventory"
    assert _adopt(github, out).code == 0
    refused = _adopt(github, out)
    assert refused.code == 2 and "pass --force to replace it" in refused.stderr
    assert _adopt(github, out, "--force").code == 0
    (out / "notes.txt").write_text("mine")
    kept = _adopt(github, out, "--force")
    assert kept.code == 2 and "'notes.txt', which adopt did not write" in kept.stderr
    assert (out / "notes.txt").read_text() == "mine"
