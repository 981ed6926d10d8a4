"""Targeting like safe-settings' suborgs (issue 36.4): a group applies to the repositories that
list it and to those its `select` matches (exact names, name globs, custom-property values); a
repository's property values are checked against the organisation's schema the stack declares;
two groups a repository did not order may not disagree. Every mistake is one line naming the key
as written."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from infra.config.github import GitHubConfig
from tests.conftest import config_problems

PROPERTIES = {
    "tier": {
        "valueType": "single_select",
        "allowedValues": ["production", "internal"],
        "defaultValue": "internal",
        "required": True,
    },
    "teams": {"valueType": "multi_select", "allowedValues": ["ml", "data", "web"]},
    "public-api": {"valueType": "true_false"},
    "runbook": {"valueType": "url"},
}


LABELS = ("dependencies", "python", "github-actions", "docker")


def _config(groups: dict[str, Any], repositories: dict[str, Any]) -> GitHubConfig:
    return GitHubConfig.model_validate(
        {
            "owner": "tbcoin",
            "defaults": {
                "visibility": "public",
                "teams": [{"team": "team-leads", "permission": "maintain"}],
                "labels": [{"name": n, "color": "000000"} for n in LABELS],
            },
            "customProperties": copy.deepcopy(PROPERTIES),
            "groups": groups,
            "repositories": repositories,
        }
    )


def test_a_group_selects_by_name_glob_and_property() -> None:
    config = _config(
        {
            "named": {"select": {"repositories": ["api"]}},
            "globbed": {"select": {"names": ["*-svc", "tool-?"]}},
            "by-tier": {"select": {"properties": {"tier": "production"}}},
            "by-team": {"select": {"properties": {"teams": ["data", "web"]}}},
            "by-flag": {"select": {"properties": {"public-api": True}}},
            "listed": {},
        },
        {
            "api": {"properties": {"tier": "production", "public-api": True}},
            "pay-svc": {"properties": {"teams": ["ml", "data"]}},
            "tool-a": {"groups": ["listed"]},
            "tool-ab": {},
            "other": {"properties": {"public-api": False}},
        },
    )
    assert {r: config.groups_of(r) for r in sorted(config.repositories)} == {
        "api": ["by-flag", "by-tier", "named"],
        "other": [],
        "pay-svc": ["by-team", "globbed"],
        "tool-a": ["listed", "globbed"],  # listed first, in its order; selected after, by name
        "tool-ab": [],
    }
    assert config.problems() == []


def test_the_schemas_default_value_is_selected_on() -> None:
    config = _config({"internal": {"select": {"properties": {"tier": "internal"}}}}, {"x": {}})
    assert config.groups_of("x") == ["internal"]
    # ...but only a value the repository sets is declared on GitHub.
    assert config.property_values("x") == {}


def test_selected_settings_reach_the_repository() -> None:
    config = _config(
        {"strict": {"select": {"names": ["*"]}, "branchRules": {"requiredApprovals": 3}}},
        {"a": {}},
    )
    assert config.settings["a"].branch_rules.required_approvals == 3
    assert config.written_at("a", "branchRules", "requiredApprovals") == (
        "github.groups.strict.branchRules.requiredApprovals"
    )


def test_groups_the_repository_did_not_order_may_not_disagree() -> None:
    groups = {
        "one": {"select": {"names": ["a"]}, "branchRules": {"requiredApprovals": 2}},
        "two": {"select": {"names": ["a*"]}, "branchRules": {"requiredApprovals": 3}},
        "same": {"select": {"names": ["a"]}, "branchRules": {"requiredApprovals": 2}},
    }
    problems = _config(groups, {"a": {}}).problems()
    assert [(p.path, p.message) for p in problems] == [
        (
            "github.groups.two.branchRules.requiredApprovals",
            "github.groups.one also applies to a and sets branchRules.requiredApprovals "
            "otherwise; list both in github.repositories.a.groups to order them, or set it in one",
        ),
        (
            "github.groups.two.branchRules.requiredApprovals",
            "github.groups.same also applies to a and sets branchRules.requiredApprovals "
            "otherwise; list both in github.repositories.a.groups to order them, or set it in one",
        ),
    ]
    # Listed, they are ordered: the later one wins, as for any layers.
    ordered = _config(groups, {"a": {"groups": ["one", "same", "two"]}})
    assert ordered.problems() == []
    assert ordered.settings["a"].branch_rules.required_approvals == 3


BAD = {
    "unknown property on a repository": (
        "github.repositories.tbcoin-engine-ml.properties",
        {"owner": "ml"},
        "github.repositories.tbcoin-engine-ml.properties.owner: no custom property 'owner' in "
        "github.customProperties",
    ),
    "a value outside allowedValues": (
        "github.repositories.tbcoin-engine-ml.properties",
        {"tier": "gold"},
        "github.repositories.tbcoin-engine-ml.properties.tier: 'gold' is not one of production, "
        "internal",
    ),
    "a list for a single_select": (
        "github.repositories.tbcoin-engine-ml.properties",
        {"tier": ["production"]},
        "github.repositories.tbcoin-engine-ml.properties.tier: must be one of allowedValues",
    ),
    "not a URL": (
        "github.repositories.tbcoin-engine-ml.properties",
        {"runbook": "wiki/runbook"},
        "github.repositories.tbcoin-engine-ml.properties.runbook: 'wiki/runbook' is not an "
        "http(s) URL",
    ),
    "a select on an undeclared property": (
        "github.groups.production-services.select",
        {"properties": {"owner": "ml"}},
        "github.groups.production-services.select.properties.owner: no custom property 'owner' "
        "in github.customProperties",
    ),
    "a select of a repository the stack does not govern": (
        "github.groups.production-services.select",
        {"repositories": ["tbcoin-engine"]},
        "github.groups.production-services.select.repositories: no repository 'tbcoin-engine' in "
        "github.repositories",
    ),
    "a select key misspelt": (
        "github.groups.production-services.select",
        {"name": ["*"]},
        "github.groups.production-services.select.name: unknown key",
    ),
    "a glob with a path": (
        "github.groups.production-services.select",
        {"names": ["tbcoin/*"]},
        "github.groups.production-services.select.names[0]: must be a repository name or glob",
    ),
    "a select property without allowedValues": (
        "github.customProperties",
        {"tier": {"valueType": "single_select"}},
        "github.customProperties.tier: a single_select property needs allowedValues",
    ),
    "a required property without a default": (
        "github.customProperties",
        {"tier": {"valueType": "string", "required": True}},
        "github.customProperties.tier: a required property needs a defaultValue",
    ),
    "a default outside allowedValues": (
        "github.customProperties",
        {"tier": {"valueType": "single_select", "allowedValues": ["a"], "defaultValue": "b"}},
        "github.customProperties.tier: defaultValue 'b' is not one of a",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_targeting_mistake_is_one_line_naming_the_key(case: str, tmp_path: Path) -> None:
    at, value, expected = BAD[case]

    def mutate(config: dict[str, Any]) -> None:
        github = config["tbcoin-platform:github"]
        github["customProperties"] = copy.deepcopy(PROPERTIES)
        node = github
        *path, last = at.split(".")[1:]
        for part in path:
            node = node[part]
        node[last] = value

    report = config_problems(mutate, tmp_path)
    assert report.startswith(f"Pulumi.prod.yaml: tbcoin-platform:{expected}"), report
    assert len(report.splitlines()) == 1, report
