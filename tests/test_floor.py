"""The security floor: every guarded setting, weakened in a real stack file, is refused (exit 2).

One weakening per guard of each stack's floor (`infra/config/floor.py`), each done the way a
careless or hostile change would do it: in the repository's own layer of `Pulumi.<stack>.yaml`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.config.checks import DEFAULT_CHECKS
from infra.config.floor import FLOORS, floor_of
from tests.conftest import config_problems, set_at

Mutation = Callable[[dict[str, Any]], None]
REPOS = {"prod": "tbcoin-engine-ml", "staging": "tbcoin-platform-sandbox"}


def _repo(stack: str, **layer: Any) -> Mutation:
    """Put `layer` (settings keys) into the governed repository's own layer."""
    return lambda c: c["tbcoin-platform:github"]["repositories"][REPOS[stack]].update(layer)


def _production_env(stack: str, **env: Any) -> Mutation:
    def mutate(config: dict[str, Any]) -> None:
        production = config["tbcoin-platform:github"]["groups"]["production-services"]
        production["environments"]["production"].update(env)

    return mutate


def _drop_production_env(config: dict[str, Any]) -> None:
    config["tbcoin-platform:github"]["groups"]["production-services"]["environments"].pop(
        "production"
    )


ACTOR = {"actorType": "RepositoryRole", "actorId": 5}
ALL_WORKFLOWS = ["tests", "code-quality", "dependency-check", "docker-build", "codeql", "docs"]

# guard name -> weakenings (stack -> mutation); every way listed must be refused.
WEAKENINGS: dict[str, list[Callable[[str], Mutation]]] = {
    "bypass-actors": [
        lambda s, mode=mode: _repo(s, branchRules={"bypassActors": [{**ACTOR, "bypassMode": mode}]})
        for mode in ("always", "pull_request", "exempt")
    ],
    "ruleset-active": [
        lambda s, e=e: _repo(s, branchRules={"enforcement": e}) for e in ("evaluate", "disabled")
    ],
    "stale-reviews": [lambda s: _repo(s, branchRules={"dismissStaleReviews": False})],
    "last-push-approval": [lambda s: _repo(s, branchRules={"requireLastPushApproval": False})],
    "required-checks": [
        lambda s: _repo(s, branchRules={"requiredChecks": []}),
        lambda s: _repo(s, branchRules={"strictChecks": False}),
    ],
    "dependency-review": [
        lambda s: _repo(s, branchRules={"requiredChecks": ["Tests", "Code Quality"]}),
        # Declared external, but not as a dependency review: the floor does not guess by name.
        lambda s: _repo(
            s,
            branchRules={
                "requiredChecks": [
                    "Tests",
                    "Code Quality",
                    {"context": "Dependency Review (own)", "external": True},
                ]
            },
        ),
    ],
    "conversation-resolution": [
        lambda s: _repo(s, branchRules={"requireConversationResolution": False})
    ],
    "history": [
        lambda s, k=k: _repo(s, branchRules={k: False})
        for k in ("linearHistory", "blockForcePushes", "blockDeletion")
    ],
    "actions-allow-list": [lambda s: _repo(s, actions={"allowedActions": "all"})],
    "sha-pinning": [lambda s: _repo(s, actions={"shaPinningRequired": False})],
    "workflow-token": [
        lambda s: _repo(s, actions={"defaultWorkflowPermissions": "write"}),
        lambda s: _repo(s, actions={"canApprovePullRequests": True}),
    ],
    "team-permissions": [lambda s: _repo(s, teams=[{"team": "team-leads", "permission": "admin"}])],
    "codeowners": [
        lambda s: _repo(s, codeowners=[{"pattern": "/src/", "owners": ["@tbcoin/team-leads"]}]),
        lambda s: _repo(
            s,
            codeowners=[
                {"pattern": "*", "owners": ["@someone"]},
                {"pattern": "/.github/", "owners": ["@tbcoin/team-leads"]},
            ],
        ),
        # Issue 24: both guarded lines present, but later lines take ownership back (the last
        # matching line wins on GitHub).
        *(
            lambda s, p=p: _repo(
                s,
                codeowners=[
                    {"pattern": "*", "owners": ["@tbcoin/team-leads"]},
                    {"pattern": "/.github/", "owners": ["@tbcoin/team-leads"]},
                    {"pattern": p, "owners": ["@mallory"]},
                ],
            )
            for p in ("**", "*.yml", "/.github/workflows/", ".github", "*.md", "/src/")
        ),
    ],
    "code-scanning": [
        lambda s: _repo(s, workflows={"enabled": [x for x in ALL_WORKFLOWS if x != "codeql"]}),
        # An external check that covers another control does not stand for code scanning.
        lambda s: _repo(
            s,
            workflows={"enabled": [x for x in ALL_WORKFLOWS if x != "codeql"]},
            branchRules={
                "requiredChecks": [
                    *DEFAULT_CHECKS,
                    {"context": "sast", "external": True, "covers": ["dependencyReview"]},
                ]
            },
        ),
    ],
    "dependabot": [lambda s: _repo(s, dependabot={"openPullRequestsLimit": 0})],
    "vulnerability-alerts": [
        lambda s: _repo(s, security={"dependabotSecurityUpdates": False}),
    ],
    "secret-scanning": [
        lambda s: _repo(s, security={"pushProtection": False}),
    ],
    "visibility": [lambda s: _repo(s, visibility="public")],
    "approvals": [lambda s: _repo(s, branchRules={"requiredApprovals": 1 if s == "prod" else 0})],
    "code-owner-review": [lambda s: _repo(s, branchRules={"requireCodeOwnerReview": False})],
    "production-environment": [
        lambda s: _drop_production_env,
        lambda s: _production_env(s, reviewers=[]),
        lambda s: _production_env(s, preventSelfReview=False),
        lambda s: _production_env(s, canAdminsBypass=True),
        lambda s: _production_env(s, defaultBranchOnly=False),
    ],
    "managed-files-route": [lambda s: _repo(s, managedFiles={"via": "defaultBranch"})],
}

CASES = [
    (stack, guard.name, i)
    for stack, floor in sorted(FLOORS.items())
    for guard in floor.guards
    for i in range(len(WEAKENINGS[guard.name]))
]


@pytest.mark.parametrize(("stack", "guard", "way"), CASES)
def test_weakening_a_guarded_setting_is_refused(
    stack: str, guard: str, way: int, tmp_path: Path
) -> None:
    setting = next(g.setting for g in floor_of(stack).guards if g.name == guard)
    report = config_problems(WEAKENINGS[guard][way](stack), tmp_path, stack=stack)
    expected = (
        f"Pulumi.{stack}.yaml: tbcoin-platform:github.repositories.{REPOS[stack]}.{setting}: "
        f"below the security floor of stack '{stack}'"
    )
    assert expected in report, report


def test_codeowners_from_another_organisation_are_refused(tmp_path: Path) -> None:
    rules = [
        {"pattern": "*", "owners": ["@tbcoin/team-leads"]},
        {"pattern": "/.github/", "owners": ["@tbcoin/team-leads", "@evilcorp/admins"]},
    ]
    report = config_problems(_repo("prod", codeowners=rules), tmp_path, stack="prod")
    assert (
        f"Pulumi.prod.yaml: tbcoin-platform:github.repositories.{REPOS['prod']}.codeowners[1]"
        ".owners: @evilcorp/admins is a team of another organisation; owners are teams of "
        "@tbcoin, users or emails"
    ) in report, report


def test_a_later_line_for_another_path_keeps_the_floor(tmp_path: Path) -> None:
    rules = [
        {"pattern": "*", "owners": ["@tbcoin/team-leads"]},
        {"pattern": "/.github/", "owners": ["@tbcoin/team-leads"]},
        {"pattern": "/docs/", "owners": ["@tbcoin/docs", "docs@tbcoin.example.com"]},
    ]
    # A code owner needs write access (tests/test_estate_consistency.py).
    teams = [
        {"team": "team-leads", "permission": "maintain"},
        {"team": "docs", "permission": "push"},
    ]
    assert config_problems(_repo("prod", codeowners=rules, teams=teams), tmp_path, "prod") == ""


def test_every_guard_has_a_weakening() -> None:
    guards = {g.name for floor in FLOORS.values() for g in floor.guards}
    assert guards == set(WEAKENINGS)


def test_the_real_stacks_are_at_their_floor(tmp_path: Path) -> None:
    for stack in FLOORS:
        assert config_problems(lambda c: None, tmp_path, stack=stack) == ""


# Settings outside a repository's: the environment tier a stack may declare, and where Helm
# charts may come from (every stack).
STACK_WIDE = {
    "prod declaring tier staging": (
        "prod",
        set_at("environments.production.tier", "staging"),
        "environments.production.tier: stack 'prod' may declare only tier production",
    ),
    "staging declaring tier production": (
        "staging",
        lambda c: c["tbcoin-platform:environments"]["staging"].update(tier="production"),
        "environments.staging.tier: stack 'staging' may declare only tier staging",
    ),
    "a chart over plain HTTP": (
        "prod",
        set_at("monitoring.chart.repository", "http://prometheus-community.github.io/helm-charts"),
        "monitoring.chart.repository: must be an https:// or oci:// chart repository on",
    ),
    "a chart from a host off the allow-list": (
        "prod",
        set_at("gateway.install.chart.repository", "oci://registry.evil.example/envoyproxy"),
        "gateway.install.chart.repository: must be an https:// or oci:// chart repository on",
    ),
    "a chart URL with credentials": (
        "prod",
        set_at(
            "monitoring.loki",
            {
                "chart": {
                    "name": "loki",
                    "version": "6.30.1",
                    "repository": "https://user@grafana.github.io/helm-charts",
                }
            },
        ),
        "monitoring.loki.chart.repository: must be an https:// or oci:// chart repository on",
    ),
}


@pytest.mark.parametrize("case", sorted(STACK_WIDE))
def test_stack_wide_floor(case: str, tmp_path: Path) -> None:
    stack, mutate, expected = STACK_WIDE[case]
    report = config_problems(mutate, tmp_path, stack=stack)
    assert f"Pulumi.{stack}.yaml: tbcoin-platform:{expected}" in report, report


def test_a_stack_without_a_floor_of_its_own_gets_prods() -> None:
    from infra.config import ConfigError
    from infra.stack import load_stack
    from infractl.stackfile import read_stack_file
    from tests.conftest import REPO

    staging = read_stack_file(REPO / "Pulumi.staging.yaml").config
    with pytest.raises(ConfigError) as caught:
        load_stack("Pulumi.qa.yaml", staging, stack="qa")
    assert (
        "Pulumi.qa.yaml: tbcoin-platform:environments.staging.tier: stack 'qa' may declare only "
        "tier production (a stack without a floor of its own gets prod's)"
    ) in caught.value.render()


def test_infractl_check_refuses_a_weakened_prod_with_exit_2(
    mutated_stack: Callable[..., Path],
) -> None:
    from tests.conftest import infractl

    path = mutated_stack(_repo("prod", visibility="public"))
    run = infractl("check", "--stack", "prod", "--config-file", path)
    assert run.code == 2, run
    assert "visibility: below the security floor of stack 'prod'" in run.stderr
    assert "Traceback" not in run.stderr
