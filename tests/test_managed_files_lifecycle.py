"""The managed-files flow over successive `pulumi up`s, with the pinned provider's behaviour
(terraform-provider-github v6.13.0): merging the PR deletes its branch (`deleteBranchOnMerge`), a
refresh drops a `Branch` or `RepositoryFile` whose branch answers 404, deleting either on a gone
branch fails, `head_ref` forces a new PR, and a closed PR is never reopened."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pulumi_github as github
import pytest

from infra.github.settings import Declaration, RepositoryContext, declarations
from infra.github.settings.files import managed_branch
from tests.conftest import resources
from tests.test_github_settings import context

BRANCH_SCOPED = (github.Branch, github.RepositoryFile)


class GoneBranch(AssertionError):
    pass


@dataclass
class FakeGitHub:
    """The branches and pull requests of one repository, and what the provider does to them."""

    default_branch: str
    branches: set[str] = field(default_factory=set)
    pulls: dict[str, str] = field(default_factory=dict)  # head branch -> open | merged

    def __post_init__(self) -> None:
        self.branches.add(self.default_branch)

    def apply(self, state: dict[str, Declaration], wanted: list[Declaration]) -> None:
        """`pulumi up` without refresh, as the engine and the provider would run it."""
        by_name = {d.name: d for d in wanted}
        for name, old in list(state.items()):
            new = by_name.get(name)
            if new == old:
                continue
            if new is not None and not self._forces_new(old, new):
                self._touch(old)  # an in-place update: a closed PR only gets its body edited
                state[name] = new
                continue
            if not old.retain_on_delete:
                self._touch(old)  # the provider's delete
            del state[name]
        for d in wanted:
            if d.name in state:
                continue
            if d.kind is github.Branch:
                self.branches.add(d.args["branch"])
            elif d.kind is github.RepositoryFile:
                self._touch(d)
            elif d.kind is github.RepositoryPullRequest:
                self.pulls[d.args["head_ref"]] = "open"
            state[d.name] = d

    def merge(self, head: str) -> None:
        self.pulls[head] = "merged"
        self.branches.discard(head)  # deleteBranchOnMerge

    def missing_on_refresh(self, state: dict[str, Declaration]) -> list[str]:
        return [
            d.name
            for d in state.values()
            if d.kind in BRANCH_SCOPED and d.args["branch"] not in self.branches
        ]

    def open_pull_for(self, ctx: RepositoryContext) -> bool:
        return self.pulls.get(managed_branch(ctx)) == "open"

    def pr_closed(self, branch: str) -> bool:
        return self.pulls.get(branch) == "merged"

    def _touch(self, d: Declaration) -> None:
        if d.kind in BRANCH_SCOPED and d.args["branch"] not in self.branches:
            raise GoneBranch(f"{d.name}: branch {d.args['branch']!r} answers 404")

    @staticmethod
    def _forces_new(old: Declaration, new: Declaration) -> bool:
        keys = {github.RepositoryFile: "branch", github.RepositoryPullRequest: "head_ref"}
        key = keys.get(old.kind)
        return key is not None and old.args[key] != new.args[key]


def _files_only(ctx: RepositoryContext) -> list[Declaration]:
    return [
        d for d in declarations(ctx) if d.kind in (*BRANCH_SCOPED, github.RepositoryPullRequest)
    ]


def _with_interval(ctx: RepositoryContext, interval: str) -> RepositoryContext:
    dependabot = ctx.settings.dependabot.model_copy(update={"interval": interval})
    return replace(ctx, settings=ctx.settings.model_copy(update={"dependabot": dependabot}))


def test_files_survive_a_merge_and_the_next_change_opens_a_new_pr() -> None:
    gh = FakeGitHub("main")
    v1 = replace(context(), pull_request_closed=gh.pr_closed)
    v2 = replace(_with_interval(v1, "daily"), pull_request_closed=gh.pr_closed)
    b1, b2 = managed_branch(v1), managed_branch(v2)
    assert b1 != b2  # keyed to the content digest

    state: dict[str, Declaration] = {}
    gh.apply(state, _files_only(v1))  # up #1: branch, files and PR for v1
    assert gh.pulls == {b1: "open"} and gh.open_pull_for(v1)
    assert gh.missing_on_refresh(state) == []

    gh.merge(b1)
    # Between the merge and the next up a refresh would find the branch gone (as
    # docs/reference/repository-governance.md says).
    assert gh.missing_on_refresh(state)
    gh.apply(state, _files_only(v1))  # up #2, same content: the merged PR's resources are forgotten
    assert state == {}
    assert gh.missing_on_refresh(state) == []

    gh.apply(state, _files_only(v2))  # up #3, new content: a new branch and a new PR
    assert gh.pulls == {b1: "merged", b2: "open"} and gh.open_pull_for(v2)
    assert {d.args["branch"] for d in state.values() if d.kind in BRANCH_SCOPED} == {b2}
    assert gh.missing_on_refresh(state) == []
    gh.apply(state, _files_only(v2))  # up #4, nothing changed: nothing happens
    assert gh.pulls == {b1: "merged", b2: "open"}


def test_a_change_before_the_merge_supersedes_the_open_pr() -> None:
    gh = FakeGitHub("main")
    v1 = replace(context(), pull_request_closed=gh.pr_closed)
    v2 = _with_interval(v1, "monthly")
    state: dict[str, Declaration] = {}
    gh.apply(state, _files_only(v1))
    gh.apply(state, _files_only(v2))
    assert gh.pulls == {managed_branch(v1): "open", managed_branch(v2): "open"}
    assert gh.missing_on_refresh(state) == []


def test_the_old_flow_breaks_on_the_second_cycle() -> None:
    """The simulation is not vacuous: one fixed branch and PR, without retainOnDelete, fails."""

    def fixed(ctx: RepositoryContext) -> list[Declaration]:
        return [
            replace(
                d,
                name=re.sub(r"-[0-9a-f]{12}", "", d.name),
                args={
                    **d.args,
                    **({"branch": "managed"} if d.kind in BRANCH_SCOPED else {}),
                    **({"head_ref": "managed"} if d.kind is github.RepositoryPullRequest else {}),
                },
                retain_on_delete=False,
            )
            for d in _files_only(ctx)
        ]

    gh = FakeGitHub("main")
    v1 = context()
    state: dict[str, Declaration] = {}
    gh.apply(state, fixed(v1))
    gh.merge("managed")
    with pytest.raises(GoneBranch):
        gh.apply(state, fixed(_with_interval(v1, "daily")))


def test_the_synth_declares_the_flow_without_deprecated_inputs(
    synthesized: Callable[[str], Path],
) -> None:
    declared = resources(synthesized("prod"))

    def of(kind: str) -> list[dict[str, Any]]:
        return [r for r in declared if r["type"] == f"github:index/{kind}"]

    (branch,) = of("branch:Branch")
    (pr,) = of("repositoryPullRequest:RepositoryPullRequest")
    files = of("repositoryFile:RepositoryFile")
    head = branch["inputs"]["branch"]
    assert head.startswith("tbcoin-platform/managed-files-")
    assert branch["inputs"]["sourceBranch"] == "main"
    assert pr["inputs"]["headRef"] == head
    assert {f["inputs"]["branch"] for f in files} == {head}
    assert all(not k.startswith("autocreateBranch") for f in files for k in f["inputs"])
    assert all(branch["urn"] in f["options"]["dependsOn"] for f in files)
    assert all(r["options"].get("retainOnDelete") for r in (branch, pr, *files))


def test_the_pull_request_lookup_tolerates_a_repository_not_created_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pulumi

    from infra.github import component

    def missing(**_: object) -> object:
        raise Exception("invoke failed: GET .../pulls: 404 Not Found []")

    monkeypatch.setattr(github, "get_repository_pull_requests", missing)
    assert component._pr_closed("o", "r", pulumi.InvokeOptions(), "b") is False

    def denied(**_: object) -> object:
        raise Exception("401 Bad credentials")

    monkeypatch.setattr(github, "get_repository_pull_requests", denied)
    with pytest.raises(Exception, match="401"):
        component._pr_closed("o", "r", pulumi.InvokeOptions(), "b")
