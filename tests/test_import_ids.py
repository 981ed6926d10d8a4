"""Import ids (infra/github/import_ids.py) against the provider's own documentation: each format is
checked against the example of its resource's "## Import" section in the vendored pulumi-github
6.15.0 schema, never guessed."""

from __future__ import annotations

import re
import string

import pytest

from infra.github import import_ids
from infra.github.import_ids import IMPORT_IDS, import_id
from tests.provider_schema import github_schema


def _token(kind: object) -> str:
    name = getattr(kind, "__name__", "")
    return f"github:index/{name[0].lower()}{name[1:]}:{name}"


def _documented_ids(token: str) -> list[str]:
    """The ids of the import commands in the resource's documentation."""
    description = github_schema()["resources"][token]["description"]
    section = description[description.index("## Import") :]
    short = token.rsplit(":", 1)[-1]
    pulumi = re.findall(rf"pulumi import {re.escape(token)} \S+ (\S+)", section)
    # The ruleset's section still shows Terraform's command: `<resource>.<name> <id>`.
    terraform = re.findall(r"terraform import github_\w+\.\w+ ([^\s`]+)", section)
    assert pulumi or terraform, f"{short}: no import example in its documentation"
    return pulumi + terraform


@pytest.mark.parametrize("kind", list(IMPORT_IDS), ids=_token)
def test_each_format_matches_the_providers_documented_example(kind: object) -> None:
    fields = [f for _, f, _, _ in string.Formatter().parse(import_ids.IMPORT_IDS[kind]) if f]  # type: ignore[index]
    documented = _documented_ids(_token(kind))
    # The first example is the plain form (others add optional parts, e.g. a source branch).
    example = documented[0]
    parts = example.split(":")
    assert len(parts) == len(fields), f"{example!r} has {len(parts)} parts, the format {fields}"
    values = dict(zip(fields, parts, strict=True))
    for field, value in values.items():
        if field.endswith("_id"):
            assert value.isdigit(), f"{field} is {value!r} in the documented {example!r}"
    assert import_id(kind, **values) == example


def test_a_colon_in_an_environment_or_file_is_escaped_as_the_schema_says() -> None:
    import pulumi_github as github

    assert import_id(github.RepositoryEnvironment, repository="r", environment="a:b") == "r:a??b"
    assert import_id(github.RepositoryFile, repository="r", file="x:y", branch="main") == (
        "r:x??y:main"
    )


def test_mutation_a_wrong_part_order_is_caught() -> None:
    import pulumi_github as github

    wrong = {**import_ids.IMPORT_IDS, github.TeamRepository: "{repository}:{team_id}"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(import_ids, "IMPORT_IDS", wrong)
        with pytest.raises(AssertionError, match="team_id is 'terraform'"):
            test_each_format_matches_the_providers_documented_example(github.TeamRepository)
