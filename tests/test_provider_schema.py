"""Every GitHub and Docker resource of both stacks is valid for the pinned providers' schemas, and
the validation catches what it should (mutation tests)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import resources
from tests.provider_schema import docker_schema, github_schema, validate

RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
FILE = "github:index/repositoryFile:RepositoryFile"
IMAGE = "docker:index/image:Image"


def _schema_for(token: str) -> dict[str, Any]:
    return docker_schema() if token.startswith("docker:") else github_schema()


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_github_and_docker_resource_matches_the_provider_schema(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    checked = [
        r
        for r in resources(synthesized(stack))
        if r["custom"] and r["type"].split(":")[0] in ("github", "docker")
    ]
    assert len(checked) >= 25
    problems = [p for r in checked for p in validate(r, _schema_for(r["type"]))]
    assert problems == []


def _one(out: Path, token: str) -> dict[str, Any]:
    return copy.deepcopy(next(r for r in resources(out) if r["type"] == token))


@pytest.mark.parametrize(
    ("token", "mutate", "expected"),
    [
        (
            RULESET,
            lambda i: i.update(enforcment=i.pop("enforcement")),
            "enforcment: not an input; did you mean 'enforcement'?",
        ),
        (
            RULESET,
            lambda i: i["rules"]["pullRequest"].update(requiredApprovingReveiwCount=1),
            "rules.pullRequest.requiredApprovingReveiwCount: not an input",
        ),
        (FILE, lambda i: i.pop("file"), "file: required input missing"),
        (
            RULESET,
            lambda i: i["rules"]["requiredStatusChecks"]["requiredChecks"][0].pop("context"),
            "rules.requiredStatusChecks.requiredChecks[0].context: required input missing",
        ),
        (
            RULESET,
            lambda i: i.update(enforcement="enabled"),
            "enforcement: 'enabled' is not one of",
        ),
        (
            RULESET,
            lambda i: i["rules"]["pullRequest"].update(allowedMergeMethods=["squash", "ff"]),
            "allowedMergeMethods[]: 'ff' is not one of",
        ),
        (FILE, lambda i: i.update(autocreateBranch=True), "autocreateBranch: deprecated: "),
        (
            "github:index/repository:Repository",
            lambda i: i.update(vulnerabilityAlerts=True),
            "vulnerabilityAlerts: deprecated: ",
        ),
        (
            RULESET,
            lambda i: i["rules"]["pullRequest"].update(requiredApprovingReviewCount="2"),
            'requiredApprovingReviewCount: expected integer, got "2"',
        ),
        (IMAGE, lambda i: i.pop("imageName"), "imageName: required input missing"),
        (
            IMAGE,
            lambda i: i.update(skipPsh=True),
            "skipPsh: not an input; did you mean 'skipPush'?",
        ),
        (
            IMAGE,
            lambda i: i["build"].update(builderVersion="BuilderV3"),
            "build.builderVersion: 'BuilderV3' is not one of ['BuilderV1', 'BuilderBuildKit']",
        ),
        (IMAGE, lambda i: i.update(buildOnPreview="yes"), "buildOnPreview: expected boolean"),
    ],
)
def test_the_validation_fails_on_each_kind_of_mistake(
    token: str,
    mutate: Callable[[dict[str, Any]], None],
    expected: str,
    synthesized: Callable[[str], Path],
) -> None:
    resource = _one(synthesized("staging"), token)
    assert validate(resource, _schema_for(token)) == []
    mutate(resource["inputs"])
    problems = validate(resource, _schema_for(token))
    assert any(expected in p for p in problems), problems


def test_the_sdk_derived_deprecations_agree_with_the_vendored_github_schema() -> None:
    """The SDK route used for Docker reads deprecations the way the provider schema states them."""
    import pulumi_github

    from tests.provider_schema import sdk_resource_schema

    derived = sdk_resource_schema(FILE, pulumi_github.RepositoryFileArgs)["resources"][FILE]
    vendored = github_schema()["resources"][FILE]
    assert set(derived["inputProperties"]) == set(vendored["inputProperties"])
    assert sorted(derived["requiredInputs"]) == sorted(vendored["requiredInputs"])
    deprecated = {k for k, v in vendored["inputProperties"].items() if "deprecationMessage" in v}
    assert {
        k for k, v in derived["inputProperties"].items() if "deprecationMessage" in v
    } == deprecated
    assert "autocreateBranch" in deprecated
