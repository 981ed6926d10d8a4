"""Every file the platform commits to a repository passes real, independent checkers:
check-jsonschema (GitHub workflow and Dependabot schemas), zizmor, and actionlint with shellcheck
on every `run:` script."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import tool_path

BIN = Path(sys.executable).parent
STACKS = {"staging": "tbcoin-platform-sandbox", "prod": "tbcoin-engine-ml"}


def _files(out: Path, repo: str) -> Path:
    return out / "github" / repo / "files"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(map(str, args)), capture_output=True, text=True, timeout=300)


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return _run(BIN / "check-jsonschema", "--builtin-schema", schema, *files)


def zizmor(*paths: Path) -> list[dict[str, object]]:
    proc = _run(BIN / "zizmor", "--offline", "--format", "json", *paths)
    assert proc.returncode in (0, 10, 11, 12, 13, 14), proc.stderr
    return list(json.loads(proc.stdout or "[]"))


def actionlint(*workflows: Path) -> list[str]:
    """actionlint v1.7.12's findings as `file:line:col: message [kind]` (pyflakes off: no managed
    step runs Python inline, and a pyflakes on PATH must not change the result)."""
    shellcheck = tool_path("SHELLCHECK", ".tools/shellcheck/usr/bin/shellcheck")
    proc = _run(
        tool_path("ACTIONLINT", ".tools/bin/actionlint"),
        "-shellcheck", shellcheck, "-pyflakes=", "-format", "{{json .}}", *workflows,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    return [
        f"{Path(e['filepath']).name}:{e['line']}:{e['column']}: {e['message']} [{e['kind']}]"
        for e in json.loads(proc.stdout or "[]")
    ]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_workflows_and_dependabot_validate_against_their_schemas(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    files = _files(synthesized(stack), STACKS[stack])
    workflows = sorted((files / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) >= 5
    proc = check_jsonschema("vendor.github-workflows", *workflows)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = check_jsonschema("vendor.dependabot", files / ".github" / "dependabot.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_zizmor_finds_nothing_in_managed_workflows(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    findings = zizmor(_files(synthesized(stack), STACKS[stack]) / ".github" / "workflows")
    summary = [(f["ident"], f["determinations"]["severity"]) for f in findings]  # type: ignore[index]
    assert summary == []


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_actionlint_finds_nothing_in_managed_workflows(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    workflows = sorted((_files(synthesized(stack), STACKS[stack]) / ".github/workflows").glob("*"))
    assert len(workflows) >= 5
    assert actionlint(*workflows) == []


def test_checkers_catch_what_they_should(tmp_path: Path) -> None:
    """The checks above are not vacuous: an unsafe, unpinned workflow fails both."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "name: bad\n"
        "on: pull_request_target\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: some-org/some-action@v1\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    severities = {f["determinations"]["severity"] for f in zizmor(bad.parent)}  # type: ignore[index]
    assert "High" in severities
    findings = actionlint(bad)
    assert any("untrusted" in f and f.endswith("[expression]") for f in findings), findings
    # shellcheck is reached through actionlint: an unquoted variable in a `run:` script
    bad.write_text(bad.read_text() + "      - run: rm -rf $WORKDIR/build\n")
    assert any("SC2086" in f and f.endswith("[shellcheck]") for f in actionlint(bad))
    broken = tmp_path / "broken.yml"
    broken.write_text("name: broken\non: push\njobs:\n  x:\n    steps: []\n")
    assert check_jsonschema("vendor.github-workflows", broken).returncode != 0


def test_repository_files_are_what_pulumi_commits(synthesized: Callable[[str], Path]) -> None:
    """Files under github/<repo>/files/ come from the captured RepositoryFile inputs."""
    resources = json.loads((synthesized("prod") / "resources.json").read_text())
    committed = {
        r["inputs"]["file"]: r["inputs"]
        for r in resources
        if r["type"] == "github:index/repositoryFile:RepositoryFile"
    }
    files = _files(synthesized("prod"), "tbcoin-engine-ml")
    on_disk = {str(p.relative_to(files)) for p in files.rglob("*") if p.is_file()}
    assert on_disk == set(committed)
    assert {".github/dependabot.yml", ".github/CODEOWNERS", "SECURITY.md"} <= on_disk
    for inputs in committed.values():
        assert inputs["commitAuthor"] == "tbcoin-platform[bot]"
        assert inputs["commitMessage"].startswith("chore(platform): manage ")
        assert re.fullmatch(r"tbcoin-platform/managed-files-[0-9a-f]{12}", inputs["branch"])


def test_this_repositorys_own_workflows_pass_zizmor_and_the_schema() -> None:
    from tests.conftest import REPO

    workflows = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    assert {w.name for w in workflows} >= {"ci.yml", "preview.yml", "deploy.yml", "drift.yml"}
    proc = check_jsonschema("vendor.github-workflows", *workflows)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert zizmor(REPO / ".github" / "workflows") == []
    assert actionlint(*workflows) == []
    for workflow in workflows:
        text = workflow.read_text()
        assert "pull_request_target" not in text and "workflow_run" not in text
        assert "permissions:\n  contents: read" in text
