"""PR preview reports from every recorded engine output in vendor/pulumi-engine-outputs, checked
against golden Markdown (reviewed by eye; `pytest --record` regenerates it), and broken input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infractl.ops.engine_output import EngineOutputError, parse_engine_output
from infractl.ops.github_api import GitHubApi, GitHubTarget, upsert_sticky_comment
from infractl.ops.preview_report import COMMENT_LIMIT, MARKER, markdown_report
from tests.conftest import infractl, vendored
from tests.gfm import assert_inert
from tests.github_standin import GitHub

FIXTURES = sorted(vendored("pulumi-engine-outputs").glob("*.json"))
GOLDEN = Path(__file__).parent / "golden"


# The event every complete engine stream ends with.
SUMMARY = {"summaryEvent": {"resourceChanges": {}}}


def _report(path: Path, stack: str | None = None) -> str:
    report = parse_engine_output(path.name, path.read_text())
    return markdown_report([(stack or report.stack, report)])


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
def test_report_matches_its_golden_markdown(fixture: Path, recording: bool) -> None:
    golden = GOLDEN / f"{fixture.stem}.md"
    text = _report(fixture)
    if recording:
        golden.write_text(text)
    assert text == golden.read_text()


def _parsed(name: str):  # type: ignore[no-untyped-def]
    path = next(p for p in FIXTURES if p.name.startswith(name))
    return parse_engine_output(path.name, path.read_text())


def test_replacement_is_one_dangerous_change() -> None:
    report = _parsed("pulumi-display--webserver-userdata")
    (change,) = report.changes
    assert (change.op, change.paths, change.dangerous) == ("replace", ["userData"], True)


def test_nested_detailed_diff_paths_and_repeated_keys() -> None:
    (change,) = _parsed("pulumi-display--up-4").changes
    assert change.paths[0] == "ingress[1].cidrBlocks[0]"
    assert len(change.paths) == len(set(change.paths)) == 5


def test_refresh_counts_agree_with_the_engines_summary() -> None:
    report = _parsed("pulumi-lifecycle-TestRefreshBasics")
    assert report.counts() == {k: v for k, v in report.summary.items() if k != "same"}


def test_policy_events_become_violations() -> None:
    report = _parsed("pulumi-lifecycle-TestSimpleAnalyzeResourceMultipleViolations")
    assert len(report.violations) == 10
    assert sum(v.enforcement == "mandatory" for v in report.violations) == 5
    assert report.result == "failed"


def test_failed_update_is_flagged() -> None:
    report = _parsed("pulumi-display--failed-stacks")
    assert report.maybe_corrupt
    assert [c.name for c in report.changes if c.failed] == ["test-x"]
    assert "the state may be corrupt" in markdown_report([("dev", report)])


def test_protected_resources_that_would_change_are_called_out(tmp_path: Path) -> None:
    source = next(p for p in FIXTURES if p.name.startswith("stratify--sample-preview-deletes"))
    document = json.loads(source.read_text())
    first_delete = next(s for s in document["steps"] if s["op"] == "delete")
    first_delete["oldState"]["protect"] = True
    text = markdown_report([("dev", parse_engine_output("x", json.dumps(document)))])
    assert "🔒 1 protected resource(s) would be touched" in text


def test_truncated_preview_json_is_a_clear_error(tmp_path: Path) -> None:
    source = next(p for p in FIXTURES if p.name.startswith("stratify--sample-preview-update"))
    cut = tmp_path / "cut.json"
    cut.write_text(source.read_text()[:5000])
    run = infractl("preview-report", "--input", cut)
    assert run.code == 2
    assert "not valid JSON" in run.stderr and "cut off" in run.stderr
    assert "Traceback" not in run.stderr


def test_event_log_with_bad_lines_still_reports_and_says_so(tmp_path: Path) -> None:
    source = next(p for p in FIXTURES if p.name.startswith("pulumi-display--webserver-userdata"))
    lines = source.read_text().splitlines()
    broken = [*lines[:-3], '{"sequence": 99, "brandNewEvent": {}}', lines[-3][:40], *lines[-2:]]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(broken))
    run = infractl("preview-report", "--event-log", path, "--stack", "dev")
    assert run.code == 0, run.stderr
    assert "1 to replace" in run.stdout
    assert "1 line(s) could not be read" in run.stdout
    assert "1 event(s) of unknown type were skipped" in run.stdout


def test_missing_optional_fields_are_tolerated() -> None:
    minimal = (
        '{"resourcePreEvent": {"metadata": {"op": "create", "urn": "urn:pulumi:s::p::t:m:T::a"}}}'
    )
    summary = {"summaryEvent": {"resourceChanges": {"create": 1}}}
    report = parse_engine_output("m", minimal + "\n" + json.dumps(summary))
    assert [(c.op, c.type, c.paths) for c in report.changes] == [("create", "t:m:T", [])]


@pytest.mark.parametrize("text", ["", "   ", "not json at all", "[1, 2]"])
def test_unreadable_input_is_an_error(text: str) -> None:
    with pytest.raises(EngineOutputError):
        parse_engine_output("bad", text)


def test_long_reports_fold_and_stay_under_githubs_limit() -> None:
    change = {
        "op": "update",
        "urn": "",
        "detailedDiff": {f"spec.p{i}": {"kind": "update"} for i in range(12)},
    }
    steps = [
        {**change, "urn": f"urn:pulumi:prod::p::k:v:T::r{i:05d}" + "x" * 60} for i in range(3000)
    ]
    summary = {"update": len(steps)}
    report = parse_engine_output("big", json.dumps({"steps": steps, "changeSummary": summary}))
    text = markdown_report([("prod", report)])
    assert len(text) <= COMMENT_LIMIT
    assert "<details>" in text
    assert "were left out to stay under GitHub's 65,536-character comment limit" in text


def test_json_format(tmp_path: Path) -> None:
    fixture = next(p for p in FIXTURES if p.name.startswith("pulumi-display--webserver"))
    run = infractl("preview-report", "--event-log", fixture, "--stack", "dev", "--format", "json")
    document = json.loads(run.stdout)
    (stack,) = document["stacks"]
    assert stack["stack"] == "dev" and stack["counts"] == {"replace": 1}
    assert stack["changes"][0]["dangerous"] is True


def _target(github: GitHub, token: str = "token") -> GitHubTarget:
    return GitHubTarget(github.repo, GitHubApi(token, github.base))


def test_sticky_comment_is_updated_not_duplicated(github: GitHub) -> None:
    github.add_pull_request(7)
    target = _target(github)
    assert upsert_sticky_comment(target, 7, f"{MARKER}\nfirst", MARKER) == "created"
    assert upsert_sticky_comment(target, 7, f"{MARKER}\nsecond", MARKER) == "updated"
    assert [c["body"] for c in github.comments.values()] == [f"{MARKER}\nsecond"]
    comments = f"/repos/{github.repo}/issues/7/comments"
    assert github.requests.count(("POST", comments)) == 1
    edits = [
        m for m, p in github.requests if p.startswith(f"/repos/{github.repo}/issues/comments/")
    ]
    assert edits == ["PATCH"]


def test_sticky_comment_pages_through_a_long_thread(github: GitHub) -> None:
    """Our comment on the third page of a busy PR is still found (Link: rel="next")."""
    github.add_pull_request(7)
    target = _target(github)
    assert upsert_sticky_comment(target, 7, f"{MARKER}\nfirst", MARKER) == "created"
    for i in range(250):
        github.comments[1000 + i] = {"issue": 7, "body": f"chatter {i}", "user": "someone"}
    assert upsert_sticky_comment(target, 7, f"{MARKER}\nsecond", MARKER) == "updated"
    assert len(github.comments) == 251


def test_post_needs_a_token(tmp_path: Path) -> None:
    fixture = FIXTURES[0]
    env_free = infractl(
        "preview-report", "--input", fixture, "--post", "--pr", "1", "--repo", "o/r"
    )
    assert env_free.code == 2
    assert "GITHUB_TOKEN is not set" in env_free.stderr


def test_sticky_comment_is_found_only_among_the_tokens_own_comments(github: GitHub) -> None:
    github.add_pull_request(7)
    mallory, ours = _target(github, "other"), _target(github)
    assert upsert_sticky_comment(mallory, 7, f"{MARKER}\nhijacked", MARKER) == "created"
    assert upsert_sticky_comment(ours, 7, f"{MARKER}\nfirst", MARKER) == "created"
    assert upsert_sticky_comment(ours, 7, f"{MARKER}\nsecond", MARKER) == "updated"
    bodies = {c["user"]: c["body"] for c in github.comments.values()}
    assert bodies == {"mallory": f"{MARKER}\nhijacked", "infra-bot": f"{MARKER}\nsecond"}


def test_hostile_policy_messages_and_names_are_inert(tmp_path: Path) -> None:
    hostile = "@tbcoin/admins </details> ![x](https://evil.example/x.png) ` end"
    event = {
        "policyEvent": {
            "policyName": f"p{hostile}", "policyPackName": "pack", "enforcementLevel": "mandatory",
            "resourceUrn": f"urn:pulumi:prod::p::t:m:T::{hostile}", "message": hostile,
        }
    }  # fmt: skip
    log = "\n".join(map(json.dumps, [event, SUMMARY]))
    text = markdown_report([("prod", parse_engine_output("x", log))])
    html = assert_inert(text)
    assert "evil.example" in html and "<img" not in html and "<a " not in html
    # Mutation: the same report with the message pasted raw is caught.
    with pytest.raises(AssertionError):
        assert_inert(text + f"\n{hostile}\n")


def test_a_github_api_error_is_one_line_and_exit_2(github: GitHub) -> None:
    github.add_pull_request(7)
    github.failures[f"/repos/{github.repo}/issues/7/comments"] = 500
    run = infractl(
        "preview-report", "--input", FIXTURES[0], "--post", "--pr", "7", "--repo", github.repo,
        env={"GITHUB_TOKEN": "token", "GITHUB_API_URL": github.base},
    )  # fmt: skip
    assert run.code == 2
    assert run.stderr.splitlines() == [
        f"infractl: GitHub API: updating the comment on PR #7 of {github.repo} failed with 500: "
        "Injected failure"
    ]
