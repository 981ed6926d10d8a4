"""The predicted Scorecard of this project's own repositories, and how settings move it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scorecard.predict import RepositoryInput, predict, predict_resources
from scorecard.shell import commands
from tests.conftest import infractl, resources

GUARDRAIL = {
    "Branch-Protection": 10,
    "Token-Permissions": 10,
    "Dangerous-Workflow": 10,
    "Security-Policy": 10,
    "Dependency-Update-Tool": 10,
    "Pinned-Dependencies": 10,
}


def _scores(out: Path) -> dict[str, dict[str, int | None]]:
    found = {}
    for path in sorted((out / "github").glob("*/scorecard.json")):
        data = json.loads(path.read_text())
        found[data["repository"]] = {c["name"]: c["score"] for c in data["checks"]}
    return found


def _repo(out: Path) -> RepositoryInput:
    from scorecard.predict import inputs_from_resources

    (repo,) = inputs_from_resources(resources(out))
    return repo


def _score(repo: RepositoryInput, check: str) -> int | None:
    return next(c.score for c in predict(repo).checks if c.name == check)


def test_prod_predicts_the_guardrail_values(synthesized: Callable[[str], Path]) -> None:
    scores = _scores(synthesized("prod"))["tbcoin-engine-ml"]
    assert {k: scores[k] for k in GUARDRAIL} == GUARDRAIL
    assert scores["Code-Review"] is None and scores["Maintained"] is None


def test_staging_without_lock_file_scores_lower_and_says_why(
    synthesized: Callable[[str], Path],
) -> None:
    data = json.loads(
        (synthesized("staging") / "github/tbcoin-platform-sandbox/scorecard.json").read_text()
    )
    pinned = next(c for c in data["checks"] if c["name"] == "Pinned-Dependencies")
    assert pinned["score"] == 5  # the unpinned `pip install` steps of its managed workflows
    assert "workflows.lockFile" in pinned["to_raise"][0]
    assert any("python -m pip install" in d for d in pinned["details"])


def test_branch_protection_follows_ruleset_and_codeowners(
    synthesized: Callable[[str], Path],
) -> None:
    repo = _repo(synthesized("prod"))
    assert _score(repo, "Branch-Protection") == 10
    no_codeowners = copy.deepcopy(repo)
    del no_codeowners.files[".github/CODEOWNERS"]
    assert _score(no_codeowners, "Branch-Protection") == 8
    evaluating = copy.deepcopy(repo)
    evaluating.rulesets[0]["enforcement"] = "evaluate"
    assert _score(evaluating, "Branch-Protection") == 0
    bypass = copy.deepcopy(repo)
    bypass.rulesets[0]["bypassActors"] = [{"actorId": 1, "actorType": "Team"}]
    assert _score(bypass, "Branch-Protection") == 9
    one_approval = copy.deepcopy(repo)
    one_approval.rulesets[0]["rules"]["pullRequest"]["requiredApprovingReviewCount"] = 1
    assert _score(one_approval, "Branch-Protection") == 8
    other_branch = copy.deepcopy(repo)
    other_branch.rulesets[0]["conditions"]["refName"]["includes"] = ["refs/heads/release/*"]
    assert _score(other_branch, "Branch-Protection") == 0


def test_workflow_changes_move_the_prediction(synthesized: Callable[[str], Path]) -> None:
    repo = _repo(synthesized("prod"))
    path = ".github/workflows/tests.yml"
    unsafe = copy.deepcopy(repo)
    unsafe.files[path] = repo.files[path].replace(
        "permissions:\n  contents: read", "permissions: write-all", 1
    )
    # write-all at the top of a workflow whose jobs declare nothing: Scorecard's minimum.
    assert _score(unsafe, "Token-Permissions") == 0
    injected = copy.deepcopy(repo)
    injected.files[path] = repo.files[path].replace(
        "run: pytest", "run: echo ${{ github.event.pull_request.title }} && pytest", 1
    )
    assert _score(injected, "Dangerous-Workflow") == 0
    unpinned = copy.deepcopy(repo)
    unpinned.files[path] = repo.files[path].replace("--require-hashes ", "", 1)
    assert _score(unpinned, "Pinned-Dependencies") == 9  # 1 of 5 pip lines: (68+40)/(68+50)


def test_binary_artifacts_counts_binaries_as_scorecard_tells_them(
    synthesized: Callable[[str], Path],
) -> None:
    """Scorecard takes one point per binary; it knows one by its magic bytes, or by a binary
    extension on content with control characters. Other files of the repository may add more."""
    from scorecard.repo_files import binary_artifacts

    repo = _repo(synthesized("prod"))
    assert binary_artifacts(repo.files).high == 10
    files = {
        **repo.files,
        "bin/helper": "\x7fELF\x02\x01\x01" + "\x00" * 57,  # ELF, no extension
        "cache/main.pyc": "\x00\x0d\x0d\x0a compiled",  # extension and control characters
        "data/table.txt": "\x00" * 64,  # control characters, text extension: not a binary
        "docs/notes.pyc": "plain text\n",  # binary extension, text content: not a binary
    }
    found = binary_artifacts(files)
    assert (found.score, found.low, found.high) == (None, 0, 8)
    assert found.details == ["bin/helper", "cache/main.pyc"]


def test_managed_workflows_use_only_modelled_install_commands(
    synthesized: Callable[[str], Path],
) -> None:
    """Pinned-Dependencies models actions and pip/npm lines; anything else would go unseen."""
    import yaml

    unmodelled = ("curl", "wget", "go", "choco", "nuget", "dotnet", "msbuild", "gsutil", "aws")
    for stack in ("prod", "staging"):
        for path in (synthesized(stack) / "github").glob("*/files/.github/workflows/*.yml"):
            for job in yaml.safe_load(path.read_text())["jobs"].values():
                for step in job.get("steps", []):
                    for cmd in commands(step.get("run", "")):
                        assert cmd[0] not in unmodelled, (path, cmd)


def test_aggregate_uses_risk_weights_over_predictable_checks() -> None:
    repo = RepositoryInput("empty")
    prediction = predict(repo)
    # No ruleset: Branch-Protection 0 is the only predictable scored check (High weight).
    assert [c.name for c in prediction.checks if c.score is not None and c.score >= 0] == [
        "Branch-Protection"
    ]
    assert prediction.aggregate() == 0.0


def test_cli_formats_and_base_comparison(
    tmp_path: Path, synthesized: Callable[[str], Path]
) -> None:
    run = infractl("scorecard", "--stack", "staging", "--format", "json")
    assert run.code == 0, run.stderr
    (repo,) = json.loads(run.stdout)["repositories"]
    assert repo["scorecard"]["version"] == "v5.5.0"
    base: list[dict[str, Any]] = resources(synthesized("staging"))
    for r in base:
        if r["type"].endswith("repositoryRuleset:RepositoryRuleset"):
            r["inputs"]["enforcement"] = "evaluate"
    (tmp_path / "base.json").write_text(json.dumps(base))
    run = infractl("scorecard", "--stack", "staging", "--format", "markdown", "--base",
                   tmp_path / "base.json")  # fmt: skip
    assert run.code == 0, run.stderr
    assert "| Branch-Protection | 8/10 (+8 vs base) |" in run.stdout
    assert predict_resources(base)[0].checks[0].score == 0


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"a": 1}'])
def test_cli_refuses_a_bad_base(tmp_path: Path, content: str) -> None:
    (tmp_path / "base.json").write_text(content)
    run = infractl("scorecard", "--stack", "staging", "--base", tmp_path / "base.json")
    assert run.code == 2
    assert "base.json" in run.stderr and "Traceback" not in run.stderr
    assert run.stdout == ""


def test_managed_license_file_raises_the_license_check(synthesized: Callable[[str], Path]) -> None:
    from infra.config.github import RepositorySettings
    from infra.github.files import repository_files
    from tests.conftest import vendored

    repo = _repo(synthesized("prod"))
    assert _score(repo, "License") is None  # not managed: the repository's own files decide
    settings = RepositorySettings.model_validate(
        {"license": "Apache-2.0", "workflows": {"enabled": []}}
    )
    files = repository_files("tbcoin", "x", settings, {})
    assert files["LICENSE"] == vendored("license-texts", "Apache-2.0.txt").read_text()
    licensed = copy.deepcopy(repo)
    licensed.files["LICENSE"] = files["LICENSE"]
    assert _score(licensed, "License") == 10
    licensed.files["LICENSE"] = "All rights reserved.\n"
    assert _score(licensed, "License") == 9


def test_a_large_estate_summary_groups_repositories_with_the_same_prediction() -> None:
    from infractl.scorecard_report import LISTED_ONE_BY_ONE, summary_line, summary_lines

    few = [predict(RepositoryInput(f"repo-{i}")) for i in range(LISTED_ONE_BY_ONE)]
    assert summary_lines(few) == [summary_line(p) for p in few]
    many = [predict(RepositoryInput(f"repo-{i:02d}")) for i in range(LISTED_ONE_BY_ONE + 2)]
    rest = summary_line(many[0]).removeprefix("repo-00: ")
    assert summary_lines(many) == [f"12 repositories (repo-00, repo-01, repo-02, ...): {rest}"]
