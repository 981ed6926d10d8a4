"""Repository governance under mocks matches the seed's requirements, for the real prod stack and
for a multi-repository config with layered overrides."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from infra.config.github import GitHubConfig, deep_merge
from tests.conftest import infractl, resources


def _of_type(out: Path, kind: str) -> list[dict[str, Any]]:
    return [r for r in resources(out) if r["type"] == f"github:index/{kind}"]


def test_prod_ruleset_enforces_the_seeds_branch_rules(synthesized: Callable[[str], Path]) -> None:
    (ruleset,) = _of_type(synthesized("prod"), "repositoryRuleset:RepositoryRuleset")
    inputs = ruleset["inputs"]
    assert inputs["enforcement"] == "active"
    assert inputs["conditions"]["refName"]["includes"] == ["~DEFAULT_BRANCH"]
    assert inputs["bypassActors"] == []
    rules = inputs["rules"]
    assert rules["deletion"] is True
    assert rules["nonFastForward"] is True
    assert rules["requiredLinearHistory"] is True
    pr = rules["pullRequest"]
    assert pr["requiredApprovingReviewCount"] >= 1
    assert pr["dismissStaleReviewsOnPush"] is True
    assert pr["requiredReviewThreadResolution"] is True
    assert "merge" not in pr["allowedMergeMethods"]
    checks = rules["requiredStatusChecks"]
    # Each check bound to the GitHub Actions app: no other app can satisfy it.
    assert checks["requiredChecks"] == [
        {"context": name, "integrationId": 15368}
        for name in ("Tests", "Code Quality", "Dependency Review")
    ]
    assert checks["strictRequiredStatusChecksPolicy"] is True


def test_prod_repository_is_protected_and_scanned(synthesized: Callable[[str], Path]) -> None:
    (repo,) = _of_type(synthesized("prod"), "repository:Repository")
    assert repo["options"]["protect"] is True
    assert repo["options"]["retainOnDelete"] is True
    assert repo["options"]["import"] == "tbcoin-engine-ml"
    inputs = repo["inputs"]
    assert inputs["archiveOnDestroy"] is True
    assert inputs["deleteBranchOnMerge"] is True
    assert inputs["allowMergeCommit"] is False
    assert inputs["hasDiscussions"] is True
    assert inputs["securityAndAnalysis"] == {
        "secretScanning": {"status": "enabled"},
        "secretScanningPushProtection": {"status": "enabled"},
    }
    out = synthesized("prod")
    (alerts,) = _of_type(out, "repositoryVulnerabilityAlerts:RepositoryVulnerabilityAlerts")
    assert alerts["inputs"]["enabled"] is True
    kind = "repositoryDependabotSecurityUpdates:RepositoryDependabotSecurityUpdates"
    (updates,) = _of_type(out, kind)
    assert updates["inputs"]["enabled"] is True


def test_prod_actions_token_is_read_only_and_production_needs_reviewers(
    synthesized: Callable[[str], Path],
) -> None:
    out = synthesized("prod")
    (perms,) = _of_type(out, "workflowRepositoryPermissions:WorkflowRepositoryPermissions")
    assert perms["inputs"]["defaultWorkflowPermissions"] == "read"
    assert perms["inputs"]["canApprovePullRequestReviews"] is False
    (actions,) = _of_type(out, "actionsRepositoryPermissions:ActionsRepositoryPermissions")
    assert actions["inputs"]["allowedActions"] == "selected"
    assert actions["inputs"]["shaPinningRequired"] is True
    envs = {
        r["inputs"]["environment"]: r["inputs"]
        for r in _of_type(out, "repositoryEnvironment:RepositoryEnvironment")
    }
    assert set(envs) == {"staging", "production"}
    production = envs["production"]
    assert production["canAdminsBypass"] is False
    # Rulesets are not classic protection: "protected branches" could admit any branch.
    assert production["deploymentBranchPolicy"] == {
        "protectedBranches": False,
        "customBranchPolicies": True,
    }
    (policy,) = _of_type(
        out, "repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
    )
    assert policy["inputs"] == {
        "repository": "tbcoin-engine-ml",
        "environment": "production",
        "branchPattern": "main",
    }
    assert production["reviewers"][0]["teams"], "production needs required reviewers"


def test_dependabot_follows_the_seed_without_reviewers(synthesized: Callable[[str], Path]) -> None:
    path = synthesized("prod") / "github/tbcoin-engine-ml/files/.github/dependabot.yml"
    config = yaml.safe_load(path.read_text())
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"pip", "github-actions", "docker"}
    for eco, label in (
        ("pip", "python"),
        ("github-actions", "github-actions"),
        ("docker", "docker"),
    ):
        update = updates[eco]
        assert update["schedule"]["interval"] == "weekly"
        assert update["schedule"]["day"] == "monday"
        assert update["open-pull-requests-limit"] == 10
        assert update["labels"] == ["dependencies", label]
        assert "reviewers" not in update
        (group,) = update["groups"].values()
        assert group["update-types"] == ["minor", "patch"]


def test_codeowners_and_security_policy(synthesized: Callable[[str], Path]) -> None:
    files = synthesized("prod") / "github/tbcoin-engine-ml/files"
    owners = (files / ".github/CODEOWNERS").read_text()
    assert "@tbcoin/team-leads" in owners
    assert any(line.startswith("/.github/") for line in owners.splitlines())
    policy = (files / "SECURITY.md").read_text()
    assert "security@tbcoin.example.com" in policy
    assert "within 48 hours" in policy
    assert "/security/advisories/new" in policy


def test_effective_settings_are_written(synthesized: Callable[[str], Path]) -> None:
    import json

    settings = json.loads(
        (synthesized("prod") / "github/tbcoin-engine-ml/settings.json").read_text()
    )
    assert settings["branchRules"]["requiredApprovals"] == 2  # from the production group
    assert settings["visibility"] == "private"  # from the defaults


def test_layers_merge_defaults_groups_and_repository() -> None:
    config = GitHubConfig.model_validate(
        {
            "owner": "acme",
            "defaults": {
                "branchRules": {"requiredApprovals": 1, "requiredChecks": ["Tests"]},
                "labels": [{"name": "a", "color": "ffffff"}],
            },
            "groups": {
                "strict": {"branchRules": {"requiredApprovals": 2}},
                "public": {"visibility": "public"},
            },
            "repositories": {
                "one": {"groups": ["strict"]},
                "two": {"groups": ["strict", "public"], "branchRules": {"requiredApprovals": 3}},
                "three": {"labels": [{"name": "b", "color": "000000"}]},
            },
        }
    )
    settings = config.settings
    assert set(settings) == {"one", "two", "three"}  # every repository's layers resolved
    assert settings["one"].branch_rules.required_approvals == 2
    assert [c.context for c in settings["one"].branch_rules.required_checks] == ["Tests"]  # merged
    assert settings["two"].branch_rules.required_approvals == 3
    assert settings["two"].visibility == "public"
    assert settings["three"].branch_rules.required_approvals == 1
    assert [label.name for label in settings["three"].labels] == ["b"]  # lists replace


def test_deep_merge_does_not_mutate_its_inputs() -> None:
    base = {"a": {"b": 1, "c": [1]}}
    merged = deep_merge(base, {"a": {"b": 2}})
    assert merged == {"a": {"b": 2, "c": [1]}}
    assert base == {"a": {"b": 1, "c": [1]}}


def test_adding_a_repository_is_a_few_lines_of_config(
    mutated_stack: Callable[..., Path], tmp_path: Path
) -> None:
    def add_repo(config: dict[str, Any]) -> None:
        config["tbcoin-platform:github"]["repositories"]["tbcoin-docs"] = {
            "groups": ["production-services"],
            "description": "Docs",
            "branchRules": {"requiredApprovals": 3},
        }

    out = tmp_path / "out"
    run = infractl(
        "synth", "--stack", "prod", "--config-file", mutated_stack(add_repo), "--out", out
    )
    assert run.code == 0, run.stderr
    rulesets = {
        r["inputs"]["repository"]: r["inputs"]["rules"]["pullRequest"]
        for r in _of_type(out, "repositoryRuleset:RepositoryRuleset")
    }
    assert rulesets["tbcoin-docs"]["requiredApprovingReviewCount"] == 3
    assert rulesets["tbcoin-engine-ml"]["requiredApprovingReviewCount"] == 2
    assert (out / "github/tbcoin-docs/files/.github/workflows/tests.yml").is_file()


def test_check_names_follow_githubs_rules_for_matrix_jobs() -> None:
    from infra.github.workflows.common import check_names

    document = {
        "jobs": {
            "plain": {"name": "Lint"},
            "noname": {},
            "templated": {
                "name": "Tests (${{ matrix.python }})",
                "strategy": {"matrix": {"python": ["3.11", "3.12"]}},
            },
            "untemplated": {"name": "Build", "strategy": {"matrix": {"os": ["a"], "py": [1, 2]}}},
        }
    }
    assert check_names(document) == {
        "Lint",
        "noname",
        "Tests (3.11)",
        "Tests (3.12)",
        "Build (a, 1)",
        "Build (a, 2)",
    }
