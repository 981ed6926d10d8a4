"""The GitHub client (infractl/ops/github_api.py) against the stand-in: Prism serving GitHub's own
OpenAPI description (tests/github_standin.py). The stand-in refuses what GitHub refuses, so a
client that sends a wrong field or path fails here; these tests show it does (mutation tests)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from infractl.ops.github_api import (
    ApiFailure,
    GitHubApi,
    GitHubError,
    GitHubTarget,
    upsert_sticky_comment,
)
from tests.github_standin import GitHub, documented, label

MARKER = "<!-- marker -->"


def _api(github: GitHub, token: str = "token", **kwargs: Any) -> GitHubApi:
    said: list[str] = []
    api = GitHubApi(token, github.base, say=said.append, **kwargs)
    api.said = said  # type: ignore[attr-defined]
    return api


def test_an_unheld_endpoint_answers_githubs_documented_example(github: GitHub) -> None:
    ruleset = _api(github).get(f"/repos/{github.repo}/rulesets/42")
    assert ruleset == documented("/repos/{owner}/{repo}/rulesets/{ruleset_id}")
    assert ruleset["name"] == "super cool ruleset"


def test_a_wrong_path_is_refused(github: GitHub) -> None:
    with pytest.raises(ApiFailure) as refused:
        _api(github).get(f"/repos/{github.repo}/rulesetz/42")
    assert refused.value.status == 404
    assert github.requests == []  # refused by the description, before anything answered


def test_a_wrong_field_is_refused(github: GitHub) -> None:
    with pytest.raises(ApiFailure) as refused:
        _api(github).post(f"/repos/{github.repo}/rulesets", {"name": "x", "enforcement": "on"})
    assert refused.value.status == 422
    assert github.requests == []


def test_a_wrong_parameter_type_is_refused(github: GitHub) -> None:
    with pytest.raises(ApiFailure) as refused:
        _api(github).get(f"/repos/{github.repo}/issues", {"per_page": "many"})
    assert refused.value.status == 422


def test_an_answer_github_would_never_give_is_refused_too(github: GitHub) -> None:
    """The state a test sets is held to GitHub's response schema: a label without its `color`
    (required) is not served, so no test can pass on a shape GitHub never returns."""
    broken = label("bug", "d73a4a")
    del broken["color"]
    github.set(f"/repos/{github.repo}/labels", [broken])
    with pytest.raises(ApiFailure) as refused:
        _api(github).paginate(f"/repos/{github.repo}/labels")
    assert refused.value.status == 500


# --- mutation tests: the real client, broken on purpose, fails against the stand-in ------------


def _sticky(github: GitHub) -> str:
    github.add_pull_request(7)
    return upsert_sticky_comment(
        GitHubTarget(github.repo, _api(github)), 7, f"{MARKER}\nbody", MARKER
    )


def test_the_sticky_comment_passes_unbroken(github: GitHub) -> None:
    assert _sticky(github) == "created"


def test_mutation_a_misspelt_field_fails_the_sticky_comment(
    github: GitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = GitHubApi.post
    monkeypatch.setattr(
        GitHubApi, "post", lambda self, path, body: post(self, path, {"text": body["body"]})
    )
    with pytest.raises(GitHubError, match="failed with 422"):
        _sticky(github)
    assert github.comments == {}


def test_mutation_a_wrong_path_fails_the_sticky_comment(
    github: GitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = GitHubApi.post
    monkeypatch.setattr(
        GitHubApi,
        "post",
        lambda self, path, body: post(self, path.replace("/issues/", "/issue/"), body),
    )
    with pytest.raises(GitHubError, match="failed with 404"):
        _sticky(github)


# --- paging, limits, permissions, secrets ------------------------------------------------------


def test_lists_are_paged_on_the_same_host_only(github: GitHub) -> None:
    labels = [label(f"l{i:03d}", "ededed") for i in range(230)]
    github.set(f"/repos/{github.repo}/labels", labels)
    api = _api(github)
    assert [x["name"] for x in api.paginate(f"/repos/{github.repo}/labels")] == [
        x["name"] for x in labels
    ]
    assert api.sent == 3  # 100 a page
    github.set(
        f"/repos/{github.repo}/labels",
        labels[:1],
        headers={"Link": '<https://evil.example/labels?page=2>; rel="next"'},
    )
    with pytest.raises(GitHubError, match=r"next page is on another host \(evil.example\)"):
        api.paginate(f"/repos/{github.repo}/labels")


def test_a_short_rate_limit_is_waited_out_and_said(github: GitHub) -> None:
    path = f"/repos/{github.repo}/actions/permissions/workflow"
    github.set(path, {"message": "API rate limit exceeded"}, 403, {"Retry-After": "1"})
    api = _api(github, sleep=lambda seconds: github.answers.pop(("GET", path)))
    answer = api.get(path)
    assert answer == documented("/repos/{owner}/{repo}/actions/permissions/workflow")
    assert api.said == ["GitHub rate limit reached: waiting 1 s as GitHub asks"]  # type: ignore[attr-defined]


def test_a_long_rate_limit_stops_with_when_to_run_again(github: GitHub) -> None:
    reset = str(int(time.time()) + 3600)
    github.set(
        f"/repos/{github.repo}",
        {"message": "API rate limit exceeded"},
        403,
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
    )
    with pytest.raises(GitHubError) as stopped:
        _api(github).get(f"/repos/{github.repo}")
    assert "rate limit exhausted until" in str(stopped.value)
    assert "run the same command again after that" in str(stopped.value)


def test_a_missing_permission_is_named(github: GitHub) -> None:
    github.set(
        f"/repos/{github.repo}/pages",
        {"message": "Resource not accessible by personal access token"},
        403,
        {"X-Accepted-GitHub-Permissions": "pages=read"},
    )
    with pytest.raises(ApiFailure) as refused:
        _api(github).get(f"/repos/{github.repo}/pages")
    assert refused.value.permission == "pages=read"
    assert "(the token needs the permission pages=read)" in str(refused.value)


def test_the_token_is_never_in_a_message(github: GitHub) -> None:
    token = "ghp_" + "A" * 36
    github.failures[f"/repos/{github.repo}"] = 500
    with pytest.raises(GitHubError) as failed:
        GitHubApi(token, github.base + f"/{token}").get(f"/repos/{github.repo}")
    assert token not in str(failed.value)
    with pytest.raises(GitHubError) as unknown:
        _api(github, token).get(f"/repos/{github.repo}/labels")
    assert "401" in str(unknown.value) and token not in str(unknown.value)
