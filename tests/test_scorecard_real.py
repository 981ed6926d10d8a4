"""`infractl scorecard` held against the real OpenSSF Scorecard v5.5.0 (tests/scorecard_real.py).

Without Go: the prediction over every recorded tree agrees with the real scores recorded for it.
With `.tools/bin/scorecard` (`make e2e-scorecard` builds it): the real tool scores today's trees,
which must agree with the prediction and with the record.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scorecard import repo_files
from scorecard.result import CheckResult
from scorecard.source import VERSION
from tests.scorecard_real import (
    FIXTURE,
    MUTATIONS,
    NETWORK,
    SCORECARD,
    STACKS,
    apply,
    base_trees,
    cases,
    compare,
    run_real,
)

RECORD = json.loads(FIXTURE.read_text())
CASES = cases(RECORD)
# The check each mutation is about, and the score the real tool gave it on some repository.
MOVES = {
    "tag-pinned-action": "Pinned-Dependencies",
    "pip-install-without-hashes": "Pinned-Dependencies",
    "top-level-write-all": "Token-Permissions",
    "pull-request-target-checkout": "Dangerous-Workflow",
    "binary-file": "Binary-Artifacts",
    "no-security-policy": "Security-Policy",
    "script-injection": "Dangerous-Workflow",
    "no-top-level-permissions": "Token-Permissions",
    "npm-install": "Pinned-Dependencies",
    "container-action-by-tag": "Pinned-Dependencies",
    "security-policy-link-only": "Security-Policy",
}


@pytest.mark.parametrize(("label", "files", "changed", "real"), CASES, ids=[c[0] for c in CASES])
def test_prediction_agrees_with_the_recorded_real_scorecard(
    label: str, files: dict[str, str], changed: list[str], real: dict[str, Any]
) -> None:
    assert compare(label, files, changed, real) == []


def test_the_record_covers_both_stacks_and_every_mutation() -> None:
    assert {tree["stack"] for tree in RECORD["trees"].values()} == set(STACKS)
    recorded = {(c["repository"], c["mutation"]) for c in RECORD["cases"]}
    assert recorded == {(r, m) for r in RECORD["trees"] for m in [None, *MUTATIONS]}
    assert RECORD["made"]["scorecard"] == VERSION
    assert RECORD["made"]["version_output"]["GitVersion"] == VERSION
    compared = {name for c in RECORD["cases"] for name in c["real"]}
    assert compared.isdisjoint(NETWORK)
    assert {"Token-Permissions", "Pinned-Dependencies", "Dangerous-Workflow"} <= compared


def test_every_mutation_moves_its_check_in_the_real_scorecard() -> None:
    """A mutation the real tool does not notice would compare nothing."""
    real = {(c["repository"], c["mutation"]): c["real"] for c in RECORD["cases"]}
    assert set(MOVES) == set(MUTATIONS)
    for mutation, check in MOVES.items():
        moved = [
            repo
            for repo in RECORD["trees"]
            if real[repo, mutation][check]["score"] < real[repo, None][check]["score"]
        ]
        assert moved, f"{mutation} left {check} where it was on every repository"


def test_a_disagreeing_prediction_is_named_with_the_check_the_file_and_both_reasons(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The predictor as it was before this comparison: any binary scored 0.
    monkeypatch.setattr(
        repo_files,
        "binary_artifacts",
        lambda files: CheckResult("Binary-Artifacts", 0, "binaries present", "old rule"),
    )
    label, files, changed, real = next(c for c in CASES if c[0].endswith("/binary-file"))
    (problem,) = compare(label, files, changed, real)
    assert problem.startswith(f"{label}: Binary-Artifacts (")
    assert "bin/helper" in problem and "predicted 0 (binaries present" in problem
    assert "real 8 (binaries present in source code" in problem


@pytest.mark.skipif(
    not SCORECARD.exists(),
    reason=f"no {SCORECARD.name} in .tools/bin: `make e2e-scorecard` builds it (Go) and runs this",
)
def test_the_real_scorecard_today_agrees_with_the_prediction_and_the_record() -> None:
    recorded = {(c["repository"], c["mutation"]): c for c in RECORD["cases"]}
    problems = []
    for repo, (_, files) in sorted(base_trees().items()):
        if RECORD["trees"][repo]["files"] != files:
            problems.append(f"{repo}: managed files changed: `make e2e-scorecard-record`")
        for mutation in [None, *MUTATIONS]:
            change = MUTATIONS[mutation][1](files) if mutation else {}
            tree = apply(files, change)
            real = run_real(tree)
            label = f"{repo}/{mutation or 'as synthesized'}"
            problems += compare(label, tree, sorted(change), real)
            was = {k: v["score"] for k, v in recorded[repo, mutation]["real"].items()}
            if {k: v["score"] for k, v in real.items()} != was:
                problems.append(f"{label}: real scores differ from the record")
    assert problems == []
