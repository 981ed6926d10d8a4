"""An estate in one stack (issue 36.6): a Go service with its own CI, a dbt data pipeline, a docs
site and the ML engine (tests/estate/github.yaml), chosen into groups by custom property and
name glob, planned clean under staging's floor and pack and under prod's; every resource of it
valid for the pinned provider's schema; weakening a shape is refused the way the floor says."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infractl.policy.analyzer import RunningPack, running_pack
from infractl.policy.check import analyze
from infractl.project import PROJECT
from tests.conftest import REPO, config_problems, load_stack, synth
from tests.provider_schema import github_schema, validate

ESTATE = yaml.safe_load((REPO / "tests/estate/github.yaml").read_text())["tbcoin-platform:github"]
STACKS = ("staging", "prod")
PROPERTY = "github:index/repositoryCustomProperty:RepositoryCustomProperty"
SCHEMA = "github:index/organizationCustomProperties:OrganizationCustomProperties"
RULESET = "github:index/repositoryRuleset:RepositoryRuleset"


def estate(config: dict[str, Any]) -> None:
    """The estate in place of a real stack's repositories (its actionPins and defaults stay)."""
    github = config["tbcoin-platform:github"]
    github["defaults"].update(copy.deepcopy(ESTATE["defaults"]))
    for key in ("customProperties", "groups", "repositories"):
        github[key] = copy.deepcopy(ESTATE[key])


def _document(stack: str, *changes: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = copy.deepcopy(load_stack(stack))
    for change in (estate, *changes):
        change(document["config"])
    return document


@pytest.fixture(scope="module")
def pack() -> Iterator[RunningPack]:
    with running_pack(REPO / "policies", project=PROJECT, stack="prod", config={}) as running:
        yield running


def _policy_config(stack: str, folder: Path) -> Path:
    # The estate's repositories are its own: the real stacks' ownership claims (that prod owns
    # tbcoin-engine-ml) are left out, and nothing else of the stack's policy config.
    config = json.loads((REPO / f"policies/config/{stack}.json").read_text())
    entry = config["github-single-stack-ownership"]
    entry = entry if isinstance(entry, dict) else {"enforcementLevel": entry}
    config["github-single-stack-ownership"] = {**entry, "ownedByOtherStacks": {}}
    path = folder / f"{stack}.json"
    path.write_text(json.dumps(config))
    return path


@pytest.mark.parametrize("stack", STACKS)
def test_the_estate_is_planned_clean_under_the_stacks_floor_and_pack(
    stack: str, pack: RunningPack, tmp_path: Path
) -> None:
    assert config_problems(estate, tmp_path, stack=stack) == ""
    result, _ = synth(stack, _document(stack))
    report = analyze(pack, stack, result.resources, _policy_config(stack, tmp_path), {}, [])
    assert [(v.policy, v.message) for v in report.violations] == []
    repositories = {r.name for r in result.resources if r.type.endswith(":GovernedRepository")}
    assert repositories == set(ESTATE["repositories"])


def test_groups_are_chosen_by_property_and_name() -> None:
    from infra.config.github import GitHubConfig

    config = GitHubConfig.model_validate(
        json.loads(json.dumps(_document("prod")["config"]["tbcoin-platform:github"]))
    )
    assert {repo: config.groups_of(repo) for repo in sorted(config.repositories)} == {
        "tbcoin-docs": ["docs-sites", "production-services"],
        "tbcoin-engine-ml": ["production-services"],
        "tbcoin-gateway": ["go-services", "production-services"],
        "tbcoin-pipeline": ["data-pipelines", "production-services"],
    }


def test_what_each_shape_gets() -> None:
    result, _ = synth("prod", _document("prod"))
    files: dict[str, set[str]] = {}
    for r in result.resources:
        if r.type == "github:index/repositoryFile:RepositoryFile":
            files.setdefault(r.inputs["repository"], set()).add(r.inputs["file"])
    workflows = {
        repo: sorted(p.rsplit("/", 1)[1] for p in paths if p.startswith(".github/workflows/"))
        for repo, paths in files.items()
    }
    assert workflows == {
        "tbcoin-docs": ["codeql.yml", "dependency-review.yml"],
        "tbcoin-engine-ml": [
            "code-quality.yml", "codeql.yml", "dependency-check.yml", "docker-build.yml",
            "docs.yml", "tests.yml",
        ],
        "tbcoin-gateway": [],
        "tbcoin-pipeline": ["codeql.yml", "dependency-review.yml"],
    }  # fmt: skip
    assert ".pre-commit-config.yaml" in files["tbcoin-engine-ml"]
    assert not any(
        ".pre-commit-config.yaml" in files[r] for r in workflows if r != "tbcoin-engine-ml"
    )
    pages = {
        r.inputs["repository"] for r in result.resources if r.type.endswith(":RepositoryPages")
    }
    assert pages == {"tbcoin-engine-ml", "tbcoin-docs"}
    (gateway,) = [
        r
        for r in result.resources
        if r.type == RULESET and r.inputs["repository"] == "tbcoin-gateway"
    ]
    checks = gateway.inputs["rules"]["requiredStatusChecks"]["requiredChecks"]
    assert [(c["context"], c["integrationId"]) for c in checks] == [
        ("build", 15368), ("test", 15368), ("dependency-review", 15368), ("Analyze (go)", 15368)
    ]  # fmt: skip


def test_custom_properties_are_declared_once_and_set_per_repository() -> None:
    result, _ = synth("prod", _document("prod"))
    schema = {r.inputs["propertyName"]: r for r in result.resources if r.type == SCHEMA}
    assert set(schema) == {"tier", "language"}
    assert schema["tier"].inputs == {
        "propertyName": "tier",
        "valueType": "single_select",
        "required": True,
        "description": "What an outage of the repository's product costs",
        "valuesEditableBy": "org_actors",
        "defaultValue": "internal",
        "allowedValues": ["production", "internal"],
    }
    assert schema["tier"].options.get("retainOnDelete") is True
    values = {
        (r.inputs["repository"], r.inputs["propertyName"]): (r.inputs["propertyValues"], r)
        for r in result.resources
        if r.type == PROPERTY
    }
    assert values[("tbcoin-gateway", "language")][0] == ["go"]
    assert len(values) == 8  # two properties set by each of the four repositories
    # A value waits for its property: the schema is declared by the same stack.
    _, gateway_tier = values[("tbcoin-gateway", "tier")]
    assert schema["tier"].urn in gateway_tier.options.get("dependsOn", [])


def test_every_github_resource_of_the_estate_matches_the_provider_schema() -> None:
    result, _ = synth("prod", _document("prod"))
    checked = [
        {"type": r.type, "name": r.name, "inputs": r.inputs}
        for r in result.resources
        if r.type.startswith("github:")
    ]
    assert {SCHEMA, PROPERTY} <= {r["type"] for r in checked}
    assert [p for r in checked for p in validate(r, github_schema())] == []


def _gateway(**layer: Any) -> Callable[[dict[str, Any]], None]:
    return lambda c: c["tbcoin-platform:github"]["repositories"]["tbcoin-gateway"].update(layer)


# Each way the Go service could slip under prod's floor, and the line that refuses it.
WEAKENED = {
    "its dependency review declared as a plain check": (
        _gateway(
            branchRules={"requiredChecks": [{"context": "dependency-review", "external": True}]}
        ),
        "github.repositories.tbcoin-gateway.branchRules.requiredChecks: below the security floor "
        "of stack 'prod'",
    ),
    "no required check at all": (
        _gateway(branchRules={"requiredChecks": []}),
        "github.repositories.tbcoin-gateway.branchRules.requiredChecks: below the security floor "
        "of stack 'prod'",
    ),
    "its code scanning not required": (
        _gateway(
            branchRules={
                "requiredChecks": [
                    {
                        "context": "dependency-review",
                        "external": True,
                        "covers": ["dependencyReview"],
                    }
                ]
            }
        ),
        "github.groups.go-services.workflows.enabled: below the security floor of stack 'prod'",
    ),
    "taken out of production by its property": (
        _gateway(properties={"tier": "internal", "language": "go"}),
        "github.repositories.tbcoin-gateway.environments.production: below the security floor",
    ),
}


@pytest.mark.parametrize("case", sorted(WEAKENED))
def test_weakening_a_shape_is_refused_under_prods_floor(case: str, tmp_path: Path) -> None:
    mutate, expected = WEAKENED[case]
    report = config_problems(lambda c: (estate(c), mutate(c)), tmp_path, stack="prod")
    assert f"Pulumi.prod.yaml: tbcoin-platform:{expected}" in report, report
