"""Refresh vendor/scorecard from a checkout of ossf/scorecard at the release in SOURCES.md.

    git -C <scorecard> checkout <tag> && python vendor/scorecard/refresh.py <scorecard>

Copies the test workflows the expectations name and writes expectations.json: the cases of
Scorecard's own Go tests (file or command, and the score or count Scorecard expects), read
out of the test tables. Then run `python vendor/manifest.py`.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCORES = {
    "checker.MaxResultScore": 10,
    "checker.MinResultScore": 0,
    "checker.InconclusiveResultScore": -1,
}


def _score(expr: str) -> int:
    expr = expr.strip()
    if expr in SCORES:
        return SCORES[expr]
    base, _, minus = expr.partition(" - ")
    return SCORES[base] - int(minus)


def _function(source: str, name: str) -> str:
    start = source.index(f"func {name}(")
    end = source.index("\n}\n", start)
    return source[start:end]


def _strings(block: str) -> list[str]:
    return re.findall(r'"([^"]*)"', block)


def token_permissions(checks: Path) -> list[dict[str, object]]:
    body = _function((checks / "permissions_test.go").read_text(), "TestGithubTokenPermissions")
    cases = []
    for files, score in re.findall(
        r"filenames:\s*\[\]string\{(.*?)\},.*?Score:\s*([^,\n]+),", body, re.S
    ):
        cases.append(
            {"files": [f.removeprefix("./") for f in _strings(files)], "score": _score(score)}
        )
    return cases


def dangerous_workflow(checks: Path) -> list[dict[str, object]]:
    body = _function(
        (checks / "raw" / "dangerous_workflow_test.go").read_text(), "TestGithubDangerousWorkflow"
    )
    return [
        {"file": f"testdata/{name}", "findings": int(nb)}
        for name, nb in re.findall(r'filename:\s*"([^"]+)",\s*expected:\s*ret\{nb:\s*(\d+)\}', body)
    ]


def action_pins(checks: Path) -> list[dict[str, object]]:
    body = _function(
        (checks / "raw" / "pinned_dependencies_test.go").read_text(),
        "TestGithubWorkflowPinningPattern",
    )
    return [
        {"uses": uses, "pinned": pinned == "true"}
        for uses, pinned in re.findall(r'uses:\s*"([^"]+)",\s*ispinned:\s*(true|false)', body)
    ]


def workflow_pinning(checks: Path) -> list[dict[str, object]]:
    source = (checks / "raw" / "pinned_dependencies_test.go").read_text()
    cases = []
    for test in ("TestGithubWorkflowPinning", "TestNonGithubWorkflowPinning"):
        body = _function(source, test)
        for case in re.findall(r"\{\s*name:.*?\n\t\t\}", body, re.S):
            file = re.search(r'filename:\s*"\./testdata/([^"]+)"', case)
            if file is None:
                continue  # non-workflow inputs outside checks/raw/testdata
            warns = re.search(r"warns:\s*(\d+)", case)
            cases.append(
                {
                    "file": f"raw/testdata/{file.group(1)}",
                    "unpinned": int(warns.group(1)) if warns else 0,
                }
            )
    return cases


def npm_commands(checks: Path) -> list[dict[str, object]]:
    source = (checks / "raw" / "shell_download_validate_test.go").read_text()
    cases = []
    for test, kind in (
        ("Test_isNpmDownload", "download"),
        ("Test_isNpmUnpinnedDownload", "unpinned"),
    ):
        body = _function(source, test)
        for cmd, want in re.findall(
            r"cmd:\s*\[\]string\{(.*?)\},\s*\},\s*want:\s*(true|false)", body, re.S
        ):
            cases.append({"function": kind, "command": _strings(cmd), "want": want == "true"})
    return cases


def main(root: Path) -> None:
    checks = root / "checks"
    expectations = {
        "tokenPermissions": token_permissions(checks),
        "dangerousWorkflow": dangerous_workflow(checks),
        "actionPins": action_pins(checks),
        "workflowPinning": workflow_pinning(checks),
        "npmCommands": npm_commands(checks),
    }
    files = {f for c in expectations["tokenPermissions"] for f in c["files"]}  # type: ignore[attr-defined]
    files |= {str(c["file"]) for c in expectations["dangerousWorkflow"]}
    files |= {str(c["file"]) for c in expectations["workflowPinning"]}
    target = HERE / "checks"
    shutil.rmtree(target, ignore_errors=True)
    for name in sorted(files):
        source = checks / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / name)
    (HERE / "expectations.json").write_text(json.dumps(expectations, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
