"""The transitive action allow-list (infra/github/allowed_actions.yaml) is true to each action's own
action.yml at its pinned SHA (vendor/github-actions/), and config that would get a workflow
refused by GitHub is refused here first."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from infra.config.github import ActionPin, GitHubConfig
from infra.github.allowlist import (
    ActionFacts,
    allowed_actions,
    allowlist_problems,
    closure,
    parse_facts,
)
from infra.github.workflows import managed_workflows
from infra.github.workflows.common import workflow_uses
from tests.conftest import load_stack, resources, vendored

TRIVY = "aquasecurity/trivy-action@ed142fd0673e97e23eac54620cfb913e5ce36c25"
SETUP_TRIVY = "aquasecurity/setup-trivy@3fb12ec12f41e471780db15c232d5dd185dcb514"


def action_yml(ref: str) -> dict[str, object]:
    path, sha = ref.split("@")
    return dict(
        yaml.safe_load(
            vendored("github-actions", f"{path.replace('/', '__')}@{sha}.yml").read_text()
        )
    )


def facts_from_action_yml(ref: str, tag: str) -> ActionFacts:
    runs = action_yml(ref)["runs"]
    assert isinstance(runs, dict)
    steps = runs.get("steps", []) if runs["using"] == "composite" else []
    nested = tuple(step["uses"] for step in steps if "uses" in step)
    return ActionFacts(tag, str(runs["using"]), nested, datetime.date.today())


def github_config(stack: str) -> GitHubConfig:
    return GitHubConfig.model_validate(load_stack(stack)["config"]["tbcoin-platform:github"])


@pytest.mark.parametrize("ref", sorted(allowed_actions()))
def test_facts_match_the_actions_own_metadata(ref: str) -> None:
    facts = allowed_actions()[ref]
    from_file = facts_from_action_yml(ref, facts.tag)
    assert (facts.using, facts.nested) == (from_file.using, from_file.nested)
    assert facts.verified <= datetime.date.today()


def test_every_action_the_workflows_run_is_allowed_transitively() -> None:
    facts = allowed_actions()
    for stack in ("prod", "staging"):
        config = github_config(stack)
        used = {
            ref
            for s in config.settings.values()
            for ref in workflow_uses(managed_workflows(s, config.action_pins))
        }
        assert len(used) >= 10
        assert allowlist_problems(used, config.action_pins, facts) == [], stack
    # trivy-action is composite and runs setup-trivy, a third-party action, inside it.
    assert SETUP_TRIVY in closure(TRIVY, facts)
    assert all("@" in ref and len(ref.split("@")[1]) == 40 for ref in facts)


def test_allow_list_on_github_names_the_nested_actions(
    synthesized: Callable[[str], Path],
) -> None:
    (perms,) = [
        r
        for r in resources(synthesized("prod"))
        if r["type"] == "github:index/actionsRepositoryPermissions:ActionsRepositoryPermissions"
    ]
    patterns = perms["inputs"]["allowedActionsConfig"]["patternsAlloweds"]
    assert "aquasecurity/setup-trivy@*" in patterns
    assert "aquasecurity/trivy-action@*" in patterns


def _pins() -> dict[str, ActionPin]:
    return github_config("prod").action_pins


def test_a_nested_action_missing_from_the_allow_list_is_refused() -> None:
    facts = {ref: f for ref, f in allowed_actions().items() if ref != SETUP_TRIVY}
    (problem,) = allowlist_problems([TRIVY], _pins(), facts)
    assert problem.path == "github.actionPins.aquasecurity/trivy-action"
    assert f"runs {SETUP_TRIVY}, which is missing from the action allow-list" in problem.message


def test_a_nested_action_not_pinned_by_sha_is_refused() -> None:
    # upload-pages-artifact v3.0.1 runs `actions/upload-artifact@v4`, a moving tag.
    old = "actions/upload-pages-artifact@56afc609e74202658d3ffba0e8f6dda462b719fa"
    facts = {**allowed_actions(), old: facts_from_action_yml(old, "v3.0.1")}
    pins = {
        **_pins(),
        "actions/upload-pages-artifact": ActionPin(sha=old.split("@")[1], version="v3.0.1"),
    }
    problems = [p.message for p in allowlist_problems([old], pins, facts)]
    assert any(
        "runs actions/upload-artifact@v4, which is not pinned to a commit SHA" in m
        for m in problems
    )


def test_node20_needs_a_reason_in_config() -> None:
    checkout = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
    pins = _pins()
    assert pins["actions/checkout"].keep_node20
    bare = {
        **pins,
        "actions/checkout": pins["actions/checkout"].model_copy(update={"keep_node20": None}),
    }
    (problem,) = allowlist_problems([checkout], bare, allowed_actions())
    assert problem.path == "github.actionPins.actions/checkout.keepNode20"
    assert "runs on node20, which GitHub is retiring" in problem.message
    # A node24 action needs no reason.
    assert allowlist_problems([TRIVY], _pins(), allowed_actions()) == []


def test_an_action_without_facts_or_with_another_tag_is_refused() -> None:
    facts = dict(allowed_actions())
    checkout = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
    del facts[checkout]
    (problem,) = allowlist_problems([checkout], _pins(), facts)
    assert "is not in the action allow-list" in problem.message
    retagged = parse_facts(
        {
            checkout: {
                "tag": "v4.1.0",
                "using": "node24",
                "nested": [],
                "verified": datetime.date(2026, 1, 1),
            }
        }
    )
    (problem,) = allowlist_problems([checkout], _pins(), retagged)
    assert problem.path == "github.actionPins.actions/checkout.version"
