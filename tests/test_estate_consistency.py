"""Consistency an estate breaks, as config errors named at the layer where the key was written:
a CODEOWNERS team without write access (GitHub ignores it, so the required code-owner review
requires nobody), an environment reviewer without access, and a stack config too large for the
engine to hand over (one environment variable of at most 128 KiB)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infractl.stackfile import ENGINE_CONFIG_LIMIT, engine_config_bytes
from tests.conftest import config_problems, set_at

REPO_KEY = "Pulumi.prod.yaml: tbcoin-platform:github.repositories.tbcoin-engine-ml"


def test_own_teams_that_drop_the_code_owners_are_refused_naming_both_keys(
    tmp_path: Path,
) -> None:
    # The case: lists replace, so the repository's own teams silently drop team-leads,
    # which the generated CODEOWNERS and prod's production environment still name.
    report = config_problems(
        set_at(
            "github.repositories.tbcoin-engine-ml.teams", [{"team": "ml", "permission": "push"}]
        ),
        tmp_path,
    )
    lines = report.splitlines()
    assert (
        f"{REPO_KEY}.teams: CODEOWNERS names @tbcoin/team-leads for *, /.github/, /SECURITY.md, "
        "but the team has no access here: GitHub ignores a code owner without write access"
    ) in report
    # The reviewers come from the group: the error names the group's key, not the repository's.
    assert (
        "Pulumi.prod.yaml: tbcoin-platform:github.groups.production-services.environments."
        "production.reviewers: team 'team-leads' reviews deployments to 'production' but has no "
        "access to this repository: GitHub would not ask it; add it to "
        "github.repositories.tbcoin-engine-ml.teams"
    ) in report
    assert len(lines) == 2, report


def test_a_code_owner_with_read_access_only_is_refused_at_the_defaults(tmp_path: Path) -> None:
    report = config_problems(
        set_at("github.defaults.teams", [{"team": "team-leads", "permission": "pull"}]), tmp_path
    )
    assert report.startswith(
        "Pulumi.prod.yaml: tbcoin-platform:github.defaults.teams: CODEOWNERS names "
        "@tbcoin/team-leads for *, /.github/, /SECURITY.md, but the team has only 'pull' here"
    ), report


# (admin too, which prod's floor refuses for its own reason)
@pytest.mark.parametrize("permission", ["push", "maintain"])
def test_write_access_satisfies_the_code_owners(tmp_path: Path, permission: str) -> None:
    teams = [{"team": "team-leads", "permission": permission}]
    assert config_problems(set_at("github.defaults.teams", teams), tmp_path) == ""


def test_explicit_code_owners_are_checked_too(tmp_path: Path) -> None:
    owners = [{"pattern": "*", "owners": ["@tbcoin/team-leads", "@tbcoin/ml"]}]
    report = config_problems(
        set_at("github.groups.production-services.codeowners", owners), tmp_path
    )
    assert report == (
        "Pulumi.prod.yaml: tbcoin-platform:github.defaults.teams: CODEOWNERS names @tbcoin/ml "
        "for *, but the team has no access here: GitHub ignores a code owner without write "
        "access, so its review would require nobody; grant it push, maintain or admin, or change "
        "codeowners"
    )


def test_a_config_the_engine_cannot_hand_over_is_refused_naming_its_largest_key(
    tmp_path: Path,
) -> None:
    def many(config: dict[str, Any], count: int = 400) -> None:
        entry = config["tbcoin-platform:github"]["repositories"]["tbcoin-engine-ml"]
        config["tbcoin-platform:github"]["repositories"] = {
            f"service-{i:04d}": {**entry, "description": "x" * 300} for i in range(count)
        }

    report = config_problems(many, tmp_path)
    assert (
        report.startswith("Pulumi.prod.yaml: tbcoin-platform:github: the stack's config is ")
        and report.endswith(
            "as the engine passes it (one environment variable, which Linux limits to 128 KiB), so "
            "the engine could not start the policy pack; this key is the largest"
        )
        is False
    )
    assert "which Linux limits to 128 KiB" in report and "split the stack" in report
    assert len(report.splitlines()) == 1, report


def test_the_size_is_measured_as_the_engine_encodes_it() -> None:
    # Go's encoder keeps non-ASCII as UTF-8 and escapes <, > and & to six bytes each.
    assert engine_config_bytes({"a": "é"}) == len('PULUMI_CONFIG={"a":"é"}'.encode()) + 1
    assert engine_config_bytes({"a": "<"}) == len('PULUMI_CONFIG={"a":"\\u003c"}') + 1
    assert ENGINE_CONFIG_LIMIT == 131072


def test_a_missing_dependabot_label_is_named_in_the_layer_that_lists_the_labels(
    tmp_path: Path,
) -> None:
    def drop_python(config: dict[str, Any]) -> None:
        labels = config["tbcoin-platform:github"]["defaults"]["labels"]
        labels[:] = [label for label in labels if label["name"] != "python"]

    assert config_problems(drop_python, tmp_path) == (
        "Pulumi.prod.yaml: tbcoin-platform:github.defaults.labels: Dependabot labels its pip PRs "
        "'python', which is not a declared label"
    )
