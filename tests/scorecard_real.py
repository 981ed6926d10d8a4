"""The real OpenSSF Scorecard against `infractl scorecard`'s prediction, on the same trees.

Each governed repository's managed files, laid out as the repository would hold them, and that tree
changed by each of MUTATIONS, are scored by `scorecard --local <dir>` (v5.5.0, built by
`make e2e-scorecard` from tools/e2e/scorecard) and by the predictor. The real results are recorded
in FIXTURE with the trees they scored, so that `make test` (no Go) holds the predictor to them.

Record again after a change of the managed files or of MUTATIONS: `python -m tests.scorecard_real
--record` (`make e2e-scorecard-record`).
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scorecard.predict import RepositoryInput, inputs_from_resources, predict_checks
from scorecard.result import CheckResult
from scorecard.source import VERSION
from tests.conftest import REPO

SCORECARD = REPO / ".tools" / "bin" / "scorecard"
FIXTURE = REPO / "tests" / "scorecard_real.json"
STACKS = ("staging", "prod")

# Checks `--local` runs that reach the network; left out of the comparison.
NETWORK = {
    "Fuzzing": "asks OSS-Fuzz's build status list (a Google Cloud Storage URL) whether the "
    "project is fuzzed: fails offline (-1, internal error)",
    "Vulnerabilities": "sends the tree's manifests and lock files to the OSV API; offline it "
    "scores 10 only because the managed files hold none, which says nothing of the repository",
}
# Checks that need the GitHub API (history, settings or services): `--local` does not run them.
NOT_LOCAL = {
    "Branch-Protection": "branch protection rules and rulesets",
    "CI-Tests": "merged pull requests and their check runs",
    "CII-Best-Practices": "the OpenSSF Best Practices badge API",
    "Code-Review": "merged pull requests and their reviews",
    "Contributors": "commit authors and their organisations",
    "Maintained": "commits, issues and the repository's creation date",
    "Signed-Releases": "releases and their assets",
}

# Checks whose predicted range is bounded by what other files of the repository may add: on a tree
# of the managed files alone, the bound is the score.
BOUND_IS_SCORE = {"Binary-Artifacts"}

_CHECKOUT = re.compile(r"actions/checkout@([0-9a-f]{40})")
_TOP_READ = re.compile(r"^permissions:\n  contents: read\n", re.M)
# An ELF header padded past the 52 bytes h2non/filetype needs to call it ELF, and a compiled Python
# module, which only its extension and a control character mark.
ELF = "\x7fELF\x02\x01\x01" + "\x00" * 57
PYC = "\xa7\r\r\n" + "\x00" * 12 + "compiled"


def _first_workflow(files: dict[str, str], pattern: re.Pattern[str]) -> str:
    workflows = (p for p in sorted(files) if p.startswith(".github/workflows/"))
    return next(p for p in workflows if pattern.search(files[p]))


def _tag_pinned(files: dict[str, str]) -> dict[str, str | None]:
    path = _first_workflow(files, _CHECKOUT)
    return {path: _CHECKOUT.sub("actions/checkout@v4", files[path], count=1)}


def _write_all(files: dict[str, str]) -> dict[str, str | None]:
    path = _first_workflow(files, _TOP_READ)
    return {path: _TOP_READ.sub("permissions: write-all\n", files[path], count=1)}


def _workflow(name: str, on: str, steps: str) -> str:
    return (
        f"name: {name}\non: {on}\npermissions:\n  contents: read\njobs:\n  {name}:\n"
        f"    runs-on: ubuntu-24.04\n    steps:\n{steps}"
    )


def _untrusted_checkout(files: dict[str, str]) -> dict[str, str | None]:
    # The tree's own checkout pin: only the trigger and the ref make it dangerous.
    sha = _CHECKOUT.findall(files[_first_workflow(files, _CHECKOUT)])[0]
    steps = (
        f"      - uses: actions/checkout@{sha}\n"
        "        with:\n"
        "          ref: ${{ github.event.pull_request.head.sha }}\n"
        "          persist-credentials: false\n"
        "      - run: make test\n"
    )
    return {".github/workflows/label.yml": _workflow("label", "pull_request_target", steps)}


def _extra(on: str, steps: str, permissions: bool = True) -> dict[str, str | None]:
    text = _workflow("extra", on, steps)
    return {".github/workflows/extra.yml": text if permissions else _TOP_READ.sub("", text)}


# name -> (what it does, files it sets (path -> content) or removes (path -> None))
MUTATIONS: dict[str, tuple[str, Callable[[dict[str, str]], dict[str, str | None]]]] = {
    "tag-pinned-action": ("the first actions/checkout pinned by tag (@v4)", _tag_pinned),
    "pip-install-without-hashes": (
        "a new workflow: `pip install requests`",
        lambda files: _extra("push", "      - run: python -m pip install requests\n"),
    ),
    "top-level-write-all": ("the first workflow's top-level permissions: write-all", _write_all),
    "pull-request-target-checkout": (
        "a new pull_request_target workflow checking out the PR head",
        _untrusted_checkout,
    ),
    "binary-file": (
        "an ELF binary at bin/helper and a compiled module at app/__pycache__/main.pyc",
        lambda files: {"bin/helper": ELF, "app/__pycache__/main.pyc": PYC},
    ),
    "no-security-policy": ("SECURITY.md removed", lambda files: {"SECURITY.md": None}),
    # Beyond the six: the other rules the prediction models.
    "script-injection": (
        "a new pull_request workflow echoing the PR title in a run: script",
        lambda files: _extra(
            "pull_request", '      - run: echo "${{ github.event.pull_request.title }}"\n'
        ),
    ),
    "no-top-level-permissions": (
        "a new workflow without a permissions: block",
        lambda files: _extra("push", "      - run: make test\n", permissions=False),
    ),
    "npm-install": (
        "a new workflow: `npm install left-pad` and `npm ci`",
        lambda files: _extra("push", "      - run: npm install left-pad\n      - run: npm ci\n"),
    ),
    "container-action-by-tag": (
        "a new workflow using docker://alpine:3.20",
        lambda files: _extra("push", "      - uses: docker://alpine:3.20\n"),
    ),
    "security-policy-link-only": (
        "SECURITY.md holding one link and nothing else",
        lambda files: {"SECURITY.md": "https://example.com/security\n"},
    ),
}


def apply(files: dict[str, str], change: dict[str, str | None]) -> dict[str, str]:
    out = {p: t for p, t in files.items() if p not in change}
    out.update({p: t for p, t in change.items() if t is not None})
    return out


def lay_out(files: dict[str, str], folder: Path) -> Path:
    """The files at their paths in the repository, under `folder`."""
    for path, text in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode())
    return folder


def run_real(files: dict[str, str], binary: Path = SCORECARD) -> dict[str, dict[str, Any]]:
    """`scorecard --local` over the tree: check -> score, reason and details."""
    with tempfile.TemporaryDirectory(prefix="scorecard-tree-") as tmp:
        tree = lay_out(files, Path(tmp))
        proc = subprocess.run(
            [binary, "--local", str(tree), "--format", "json", "--show-details"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    # It exits 1 when a check fails to run (Fuzzing, offline); the JSON is complete all the same.
    # Details come in no fixed order: sorted, so that a record changes only when a result does.
    assert proc.stdout, proc.stderr
    data = json.loads(proc.stdout)
    assert data["scorecard"]["version"] == VERSION, data["scorecard"]
    return {
        c["name"]: {
            "score": c["score"],
            "reason": c["reason"],
            "details": sorted(c.get("details") or []),
        }
        for c in data["checks"]
        if c["name"] not in NETWORK
    }


def predicted(files: dict[str, str]) -> dict[str, CheckResult]:
    # Rulesets only decide Branch-Protection, which --local does not run.
    checks, _ = predict_checks(RepositoryInput("tree"), files)
    return {c.name: c for c in checks}


def compare(
    case: str, files: dict[str, str], changed: list[str], real: dict[str, Any]
) -> list[str]:
    """Each check that both sides score, scored differently, or whose real score falls outside
    the predicted range; names the case, the files it changed and both reasons."""
    found = []
    prediction = predicted(files)
    for name, actual in sorted(real.items()):
        ours = prediction[name]
        if ours.score is not None or name in BOUND_IS_SCORE:
            agrees = (ours.high if ours.score is None else ours.score) == actual["score"]
        else:
            agrees = ours.low <= actual["score"] <= ours.high
        if agrees:
            continue
        if ours.score is not None or name in BOUND_IS_SCORE:
            expected: object = ours.high if ours.score is None else ours.score
        else:
            expected = f"{ours.low}-{ours.high}"
        where = ", ".join(changed) or "the synth's managed files"
        warnings = [d for d in actual["details"] if not d.startswith("Info:")]
        found.append(
            f"{case}: {name} ({where}): predicted {expected} ({ours.reason}; {ours.details}), "
            f"real {actual['score']} ({actual['reason']}; {warnings})"
        )
    return found


def base_trees() -> dict[str, tuple[str, dict[str, str]]]:
    """Repository -> (stack, its managed files), from the synth of each stack."""
    from tests.conftest import synth

    trees = {}
    for stack in STACKS:
        resources = [r.as_json() for r in synth(stack)[0].resources]
        for repo in inputs_from_resources(resources):
            trees[repo.name] = (stack, dict(repo.files))
    return trees


def cases(fixture: dict[str, Any]) -> list[tuple[str, dict[str, str], list[str], dict[str, Any]]]:
    """(case id, tree, changed paths, recorded real results) for every recorded case."""
    out = []
    for case in fixture["cases"]:
        files = apply(fixture["trees"][case["repository"]]["files"], case["change"])
        label = f"{case['repository']}/{case['mutation'] or 'as synthesized'}"
        out.append((label, files, sorted(case["change"]), case["real"]))
    return out


def record(binary: Path = SCORECARD) -> dict[str, Any]:
    trees = base_trees()
    recorded: list[dict[str, Any]] = []
    for repo, (_, files) in sorted(trees.items()):
        changes: dict[str | None, dict[str, str | None]] = {None: {}}
        changes.update({name: make(files) for name, (_, make) in MUTATIONS.items()})
        for mutation, change in changes.items():
            real = run_real(apply(files, change), binary)
            recorded.append(
                {"repository": repo, "mutation": mutation, "change": change, "real": real}
            )
    version = subprocess.run([binary, "version"], capture_output=True, text=True).stdout
    stamp = re.findall(r"^(GitVersion|GoVersion|Platform):\s+(\S+)", version, re.M)
    return {
        "made": {
            "command": "python -m tests.scorecard_real --record (make e2e-scorecard-record)",
            "scorecard": VERSION,
            "built": "go build github.com/ossf/scorecard/v5 in tools/e2e/scorecard (go.sum pins)",
            "version_output": dict(stamp),
            "date": datetime.date.today().isoformat(),
        },
        "network": NETWORK,
        "not_local": NOT_LOCAL,
        "mutations": {name: what for name, (what, _) in MUTATIONS.items()},
        "trees": {repo: {"stack": stack, "files": files} for repo, (stack, files) in trees.items()},
        "cases": recorded,
    }


def main(argv: list[str]) -> int:
    if argv != ["--record"]:
        rewrites = FIXTURE.relative_to(REPO)
        print(
            f"usage: python -m tests.scorecard_real --record (rewrites {rewrites})", file=sys.stderr
        )
        return 2
    data = record()
    FIXTURE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    problems = [p for case in cases(data) for p in compare(*case)]
    print(f"{len(data['cases'])} cases written to {FIXTURE.relative_to(REPO)}")
    print("\n".join(problems) or "the prediction agrees with every case")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
