"""The predictor against Scorecard's own test expectations (vendor/scorecard, see SOURCES.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scorecard import dangerous, permissions, pinned
from scorecard.workflow import WorkflowError, contains_commands, is_workflow_file
from scorecard.workflow import parse_workflow as parse
from tests.conftest import vendored

EXPECTED: dict[str, list[dict[str, Any]]] = json.loads(
    vendored("scorecard", "expectations.json").read_text()
)


def _workflow(vendored_path: str, seen_as: str) -> Any:
    """The parsed workflow at the path Scorecard's test shows it under, or None when skipped."""
    text = vendored("scorecard", "checks", vendored_path).read_text()
    if not is_workflow_file(seen_as) or not contains_commands(text):
        return None
    return parse(seen_as, text)


def _seen_as(path: str) -> str:
    return path.split("testdata/", 1)[1]


def test_every_upstream_table_was_read() -> None:
    counts = {name: len(cases) for name, cases in EXPECTED.items()}
    assert counts == {
        "tokenPermissions": 34,
        "dangerousWorkflow": 11,
        "actionPins": 12,
        "workflowPinning": 14,
        "npmCommands": 12,
    }


@pytest.mark.parametrize(
    "case", EXPECTED["tokenPermissions"], ids=lambda c: c["files"][-1].rsplit("/", 1)[-1]
)
def test_token_permissions_score(case: dict[str, Any]) -> None:
    data = permissions.PermissionData()
    for path in case["files"]:
        workflow = _workflow(path, _seen_as(path))
        if workflow is not None:
            permissions.collect(workflow, data)
    assert permissions.evaluate(data).score == case["score"]


@pytest.mark.parametrize(
    "case", EXPECTED["dangerousWorkflow"], ids=lambda c: c["file"].rsplit("/", 1)[-1]
)
def test_dangerous_workflow_findings(case: dict[str, Any]) -> None:
    data = dangerous.DangerousData()
    workflow = _workflow(case["file"], _seen_as(case["file"]))
    if workflow is not None:
        dangerous.collect(workflow, data)
    assert len(data.findings) == case["findings"]
    expected_score = None if workflow is None else (0 if case["findings"] else 10)
    if expected_score is not None:
        assert dangerous.evaluate(data).score == expected_score


@pytest.mark.parametrize("case", EXPECTED["actionPins"], ids=lambda c: c["uses"])
def test_action_pin_pattern(case: dict[str, Any]) -> None:
    assert pinned.is_action_pinned(case["uses"]) is case["pinned"]


@pytest.mark.parametrize(
    "case", EXPECTED["workflowPinning"], ids=lambda c: c["file"].rsplit("/", 1)[-1]
)
def test_unpinned_actions_per_workflow(case: dict[str, Any]) -> None:
    data = pinned.PinningData()
    try:
        workflow = _workflow(case["file"], _seen_as(case["file"]))
    except WorkflowError:
        workflow = None
    if workflow is not None:
        pinned.action_dependencies(workflow, data)
    assert data.unpinned() == case["unpinned"]


@pytest.mark.parametrize("case", EXPECTED["npmCommands"], ids=lambda c: " ".join(c["command"]))
def test_npm_command(case: dict[str, Any]) -> None:
    if case["function"] == "download":
        assert pinned.is_npm_download(case["command"]) is case["want"]
    else:
        assert pinned.is_npm_unpinned_download(case["command"]) is case["want"]
