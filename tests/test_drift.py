"""`infractl drift` on recorded refresh-previews, and the single drift issue it keeps per stack."""

from __future__ import annotations

import json
from pathlib import Path

from infractl.ops.github_api import GitHubTarget, drift_title, sync_drift_issue
from tests.conftest import infractl, vendored
from tests.fake_github import fake_github

REFRESH = vendored(
    "pulumi-engine-outputs",
    "pulumi-lifecycle-TestRefreshBasics-all-0-0-preview--eventstream.json",
)


def test_drift_found_exits_1_and_lists_it() -> None:
    run = infractl("drift", "--stack", "test", "--input", REFRESH)
    assert run.code == 1
    assert "2 to delete, 1 to update" in run.stdout
    assert "`oof`" in run.stdout


def test_no_drift_exits_0(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.json"
    quiet.write_text(json.dumps({"steps": [{"op": "same", "urn": "urn:pulumi:prod::p::t:m:T::a"}]}))
    run = infractl("drift", "--stack", "prod", "--input", quiet)
    assert run.code == 0, run.stderr
    assert "No drift in stack `prod`" in run.stdout


def test_without_input_or_cli_it_says_what_is_missing() -> None:
    run = infractl("drift", "--stack", "prod", env={"PATH": "/usr/bin:/bin"})
    assert run.code == 2
    assert "the pulumi CLI is not on PATH; pass --input" in run.stderr


def test_drift_issue_opens_updates_and_closes() -> None:
    with fake_github() as github:
        target = GitHubTarget(github.repo, "token", github.base)
        assert sync_drift_issue(target, "prod", True, "first") == "opened"
        assert sync_drift_issue(target, "prod", True, "second") == "updated"
        assert sync_drift_issue(target, "staging", True, "other stack") == "opened"
        (prod,) = [i for i in github.issues.values() if i["title"] == drift_title("prod")]
        assert (prod["body"], prod["labels"], prod["state"]) == ("second", ["drift"], "open")
        assert sync_drift_issue(target, "prod", False, "") == "closed"
        assert prod["state"] == "closed"
        assert sync_drift_issue(target, "prod", False, "") == "nothing to do"


def test_open_issue_through_the_cli() -> None:
    with fake_github() as github:
        run = infractl(
            "drift", "--stack", "test", "--input", REFRESH, "--open-issue", "--repo", github.repo,
            env={"GITHUB_TOKEN": "t", "GITHUB_API_URL": github.base},
        )  # fmt: skip
        assert run.code == 1, run.stderr
        assert "drift issue: opened" in run.stderr
        (issue,) = github.issues.values()
        assert issue["title"] == drift_title("test")
