"""The security floor: every guarded setting, weakened in a real stack file, is refused (exit 2).

One weakening per guard of each stack's floor (`infra/config/floor.py`), each done the way a
careless or hostile change would do it: in the repository's own layer of `Pulumi.<stack>.yaml`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.config.floor import REPOSITORY, STACK_FLOORS, bounds, rows_for
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

# setting (below github.repositories.<repo>) -> weakenings (stack -> mutation); every way listed
# must be refused, naming the setting.
WEAKENINGS: dict[str, list[Callable[[str], Mutation]]] = {
    "branchRules.bypassActors": [
        lambda s, mode=mode: _repo(s, branchRules={"bypassActors": [{**ACTOR, "bypassMode": mode}]})
        for mode in ("always", "pull_request", "exempt")
    ],
    "branchRules.enforcement": [
        lambda s, e=e: _repo(s, branchRules={"enforcement": e}) for e in ("evaluate", "disabled")
    ],
    "branchRules.dismissStaleReviews": [
        lambda s: _repo(s, branchRules={"dismissStaleReviews": False})
    ],
    "branchRules.requireLastPushApproval": [
        lambda s: _repo(s, branchRules={"requireLastPushApproval": False})
    ],
    "branchRules.requiredChecks": [
        lambda s: _repo(s, branchRules={"requiredChecks": ["Tests", "Code Quality"]}),
    ],
    "branchRules.strictChecks": [lambda s: _repo(s, branchRules={"strictChecks": False})],
    "branchRules.requireConversationResolution": [
        lambda s: _repo(s, branchRules={"requireConversationResolution": False})
    ],
    **{
        f"branchRules.{k}": [lambda s, k=k: _repo(s, branchRules={k: False})]
        for k in ("linearHistory", "blockForcePushes", "blockDeletion")
    },
    "actions.allowedActions": [lambda s: _repo(s, actions={"allowedActions": "all"})],
    "actions.shaPinningRequired": [lambda s: _repo(s, actions={"shaPinningRequired": False})],
    "actions.defaultWorkflowPermissions": [
        lambda s: _repo(s, actions={"defaultWorkflowPermissions": "write"})
    ],
    "actions.canApprovePullRequests": [
        lambda s: _repo(s, actions={"canApprovePullRequests": True})
    ],
    "teams": [lambda s: _repo(s, teams=[{"team": "team-leads", "permission": "admin"}])],
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
    "workflows.enabled": [
        lambda s, w=w: _repo(s, workflows={"enabled": [x for x in ALL_WORKFLOWS if x != w]})
        for w in ("codeql", "dependency-check")
    ],
    "dependabot.openPullRequestsLimit": [
        lambda s: _repo(s, dependabot={"openPullRequestsLimit": 0})
    ],
    "security.vulnerabilityAlerts": [
        # Dependabot's updates need the alerts: both off, or the config check names the pair.
        lambda s: _repo(
            s, security={"vulnerabilityAlerts": False, "dependabotSecurityUpdates": False}
        )
    ],
    "security.dependabotSecurityUpdates": [
        lambda s: _repo(s, security={"dependabotSecurityUpdates": False}),
    ],
    "security.secretScanning": [
        lambda s: _repo(s, security={"secretScanning": False, "pushProtection": False})
    ],
    "security.pushProtection": [lambda s: _repo(s, security={"pushProtection": False})],
    "visibility": [lambda s: _repo(s, visibility="public")],
    "branchRules.requiredApprovals": [
        lambda s: _repo(s, branchRules={"requiredApprovals": 1 if s == "prod" else 0})
    ],
    "branchRules.requireCodeOwnerReview": [
        lambda s: _repo(s, branchRules={"requireCodeOwnerReview": False})
    ],
    "environments.production": [
        lambda s: _drop_production_env,
        lambda s: _production_env(s, reviewers=[]),
        lambda s: _production_env(s, preventSelfReview=False),
        lambda s: _production_env(s, canAdminsBypass=True),
        lambda s: _production_env(s, defaultBranchOnly=False),
    ],
    "managedFiles.via": [lambda s: _repo(s, managedFiles={"via": "defaultBranch"})],
}
REPOSITORY_ROWS = {
    stack: [row.key.removeprefix(REPOSITORY) for row, _ in bounds(stack)
            if row.key.startswith(REPOSITORY)]
    for stack in STACK_FLOORS
}  # fmt: skip

CASES = [
    (stack, setting, i)
    for stack, settings in sorted(REPOSITORY_ROWS.items())
    for setting in settings
    for i in range(len(WEAKENINGS[setting]))
]


@pytest.mark.parametrize(("stack", "setting", "way"), CASES)
def test_weakening_a_guarded_setting_is_refused(
    stack: str, setting: str, way: int, tmp_path: Path
) -> None:
    report = config_problems(WEAKENINGS[setting][way](stack), tmp_path, stack=stack)
    (row,) = rows_for(REPOSITORY + setting)
    named = _where(stack, setting, way)
    expected = (
        f"Pulumi.{stack}.yaml: tbcoin-platform:{named}: below the security floor of stack "
        f"'{stack}': must be {row.stacks[stack].words}; {row.reason}"
    )
    assert expected in report, report


def _where(stack: str, setting: str, way: int) -> str:
    """The key an error names: the layer that set the weakened value (the group for the
    production environment's fields), or the repository's effective key when no layer sets it
    (the production environment dropped from the group)."""
    if setting == "environments.production" and way > 0:
        return f"github.groups.production-services.{setting}"
    return f"github.repositories.{REPOS[stack]}.{setting}"


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


def test_every_guarded_setting_has_a_weakening() -> None:
    assert {s for settings in REPOSITORY_ROWS.values() for s in settings} == set(WEAKENINGS)


def test_a_weakening_in_a_group_is_named_at_the_group(tmp_path: Path) -> None:
    """The error names the key as written where the weakening is: the group's layer, not the
    repository's effective settings (issue 30)."""
    report = config_problems(_production_env("prod", canAdminsBypass=True), tmp_path)
    assert (
        "Pulumi.prod.yaml: tbcoin-platform:github.groups.production-services.environments."
        "production: below the security floor of stack 'prod'"
    ) in report, report

    def weaken(config: dict[str, Any]) -> None:
        group = config["tbcoin-platform:github"]["groups"]["production-services"]
        group["branchRules"]["requiredApprovals"] = 1

    report = config_problems(weaken, tmp_path)
    assert report.startswith(
        "Pulumi.prod.yaml: tbcoin-platform:github.groups.production-services.branchRules."
        "requiredApprovals: below the security floor of stack 'prod': must be >= 2; "
    ), report


def test_the_real_stacks_are_at_their_floor(tmp_path: Path) -> None:
    for stack in STACK_FLOORS:
        assert config_problems(lambda c: None, tmp_path, stack=stack) == ""


# Settings outside a repository's: the environment tier a stack may declare, and where Helm
# charts may come from (every stack).
STACK_WIDE = {
    "prod declaring tier staging": (
        "prod",
        set_at("environments.production.tier", "staging"),
        "environments.production.tier: below the security floor of stack 'prod': must be "
        "production; each stack deploys one kind of environment",
    ),
    "staging declaring tier production": (
        "staging",
        lambda c: c["tbcoin-platform:environments"]["staging"].update(tier="production"),
        "environments.staging.tier: below the security floor of stack 'staging': must be staging",
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
        "Pulumi.qa.yaml: tbcoin-platform:environments.staging.tier: below the security floor of "
        "stack 'qa' (a stack without a floor of its own gets prod's): must be production"
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


def test_a_row_added_to_the_table_holds_a_stack_config_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Adding a minimum is one row: its key (any stack config key, `<...>` for any name), the
    bound per stack, the reason; the floor check then names every key below it."""
    from infra.config import floor

    row = floor.Minimum(
        "services.<service>.strategy.analysis.errorRatio",
        {"prod": floor.at_most(0.01)},
        "a release may not fail more requests than the paging alert tolerates",
    )
    monkeypatch.setattr(floor, "TABLE", (*floor.TABLE, row))
    report = config_problems(lambda c: None, tmp_path, stack="prod")
    assert report.splitlines() == [
        f"Pulumi.prod.yaml: tbcoin-platform:services.{name}.strategy.analysis.errorRatio: below "
        "the security floor of stack 'prod': must be <= 0.01; a release may not fail more "
        "requests than the paging alert tolerates"
        for name in ("api", "inference")
    ]
    assert config_problems(lambda c: None, tmp_path, stack="staging") == ""


def test_a_row_may_judge_a_repositorys_whole_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An intent more than one key can meet is one row too (`whole=True`): the bound gets the
    effective settings, the error names the row's key at the layer that set it."""
    from infra.config import floor

    row = floor.Minimum(
        floor.REPOSITORY + "branchRules.requiredApprovals",
        {"prod": floor.holds("3 approvals, or 2 with code-owner review off", lambda s: False)},
        "an example intent",
        whole=True,
    )
    monkeypatch.setattr(floor, "TABLE", (*floor.TABLE, row))
    report = config_problems(lambda c: None, tmp_path, stack="prod")
    assert report == (
        "Pulumi.prod.yaml: tbcoin-platform:github.groups.production-services.branchRules."
        "requiredApprovals: below the security floor of stack 'prod': must be 3 approvals, or 2 "
        "with code-owner review off; an example intent"
    )
