"""The PR preview a reviewer can act on: old -> new per property, why a resource is replaced,
each change ranked by the drift severity rules and (for settings the floor covers) weakening or
strengthening, one opening line of what matters most, and the context (commit, engine, provider
and pack versions, what merging does).

The event logs here are built from the real prod synth's resources (URNs, types, inputs) in the
engine's event-log shapes (tests/engine_outputs/README.md); changes recorded from the real
engine are tested in tests/test_engine_outputs_recorded.py.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from infra.manifests.labels import BUDGET_OVERRIDE
from infractl.ops.engine_output import parse_engine_output
from infractl.ops.plan_risk import DIRECTIONS, STRENGTHENS, WEAKENS, direction_of, rank
from infractl.ops.preview_report import (
    COMMENT_LIMIT,
    SECTIONS,
    Context,
    StackView,
    markdown_report,
    opening_line,
)
from tests.conftest import REPO, heavy_imports, infractl, synth
from tests.gfm import assert_inert

RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
SECRET = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SERVICE = "kubernetes:core/v1:Service"
ANALYSIS_TEMPLATE = "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate"
GITHUB_TOKEN = "ghp_" + "A1b2C3d4" * 5


def _resource(kind: str, pick: int = 0) -> tuple[str, dict[str, Any]]:
    result, _ = synth("prod")
    found = [r for r in result.resources if r.type == kind][pick]
    # As the engine writes it: no stack type in a top-level resource's parent chain.
    return found.urn.replace("pulumi:pulumi:Stack$", ""), copy.deepcopy(found.inputs)


def _event(kind: str, op: str, urn: str, old: Any, new: Any, **meta: Any) -> dict[str, Any]:
    state = {
        side: None if inputs is None else {"urn": urn, "id": "id-1", "inputs": inputs}
        for side, inputs in (("old", old), ("new", new))
    }
    type_ = urn.split("::")[2].split("$")[-1]
    return {kind: {"metadata": {"op": op, "urn": urn, "type": type_, **state, **meta}}}


def _log(tmp_path: Path, steps: list[tuple[str, str, Any, Any, dict[str, Any]]]) -> Path:
    """An event log of `steps` (op, urn, old inputs, new inputs, extra metadata), each as a
    resourcePreEvent and its resOutputsEvent, and the summary that counts them."""
    events: list[dict[str, Any]] = [{"preludeEvent": {"config": {}}}]
    for op, urn, old, new, meta in steps:
        events += [_event(k, op, urn, old, new, **meta) for k in ("resourcePreEvent",
                                                                    "resOutputsEvent")]  # fmt: skip
    counts = Counter(op for op, *_ in steps)
    events.append({"summaryEvent": {"resourceChanges": dict(counts), "result": "succeeded"}})
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    return path


def _diff(*paths: str, kind: str = "update") -> dict[str, Any]:
    return {"detailedDiff": {p: {"diffKind": kind, "inputDiff": True} for p in paths}}


def _weakened_ruleset(tmp_path: Path) -> Path:
    urn, old = _resource(RULESET)
    old["rules"]["requiredLinearHistory"] = False
    new = copy.deepcopy(old)
    new["rules"]["pullRequest"]["requiredApprovingReviewCount"] = 1.0  # the engine's float
    new["rules"]["requiredLinearHistory"] = True
    return _log(
        tmp_path,
        [
            (
                "update",
                urn,
                old,
                new,
                _diff(
                    "rules.pullRequest.requiredApprovingReviewCount", "rules.requiredLinearHistory"
                ),
            )
        ],
    )


def test_a_weakened_approval_count_opens_the_comment(tmp_path: Path) -> None:
    run = infractl(
        "preview-report", "--event-log", _weakened_ruleset(tmp_path), "--stack", "prod",
        "--commit", "0123456789abcdef", "--engine-version", "v3.274.0",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    opening = run.stdout.splitlines()[3]
    key = "github.repositories.tbcoin-engine-ml.branchRules.requiredApprovals"
    assert opening == (
        "🔴 **1 critical weakening**: `prod` `tbcoin-engine-ml-default-branch` "
        f"`rules.pullRequest.requiredApprovingReviewCount` `2` → `1` (`{key}`)"
    )
    row = next(line for line in run.stdout.splitlines() if "requiredApprovingReviewCount" in line
               and line.startswith("| "))  # fmt: skip
    ruleset = "`tbcoin-engine-ml-default-branch`"
    assert row.startswith(f"| 🔴 critical · **weakens** | update | {ruleset}")
    assert "`2` → `1`" in row and f"set by `{key}`" in row
    # The same property made stricter is said so, not hidden.
    assert f"🔴 critical · **strengthens** | update | {ruleset}" in run.stdout
    assert "_Previewed commit `0123456789ab` · Pulumi v3.274.0_" in run.stdout
    assert_inert(run.stdout)


@pytest.mark.parametrize(
    ("path", "old", "new", "direction"),
    [
        ("rules.pullRequest.requiredApprovingReviewCount", 2, 1, WEAKENS),
        ("rules.pullRequest.requiredApprovingReviewCount", 1, 2, STRENGTHENS),
        ("enforcement", "active", "evaluate", WEAKENS),
        ("bypassActors[0]", None, {"actorId": 5}, WEAKENS),
        ("rules.pullRequest.dismissStaleReviewsOnPush", True, False, WEAKENS),
        ("rules.pullRequest.allowedMergeMethods[0]", "squash", "merge", ""),  # not floor-covered
    ],
)
def test_floor_covered_settings_have_a_direction(
    path: str, old: Any, new: Any, direction: str
) -> None:
    from infractl.ops.engine_output import MISSING

    assert direction_of(RULESET, path, MISSING if old is None else old, new)[0] == direction


def test_every_direction_names_an_entry_of_the_floor() -> None:
    """Which settings have a floor is infra/config/floor.py's: a direction for anything else
    (or a floor entry renamed) is caught."""
    from infra.config.floor import STACK_FLOORS, TABLE

    names = {row.name for row in TABLE}
    names |= {row.parameter[0] for row in TABLE if row.parameter}
    names |= {p for f in STACK_FLOORS.values() for p in f.mandatory_policies or ()}
    assert {d.floor for d in DIRECTIONS} - names == set()


def test_secrets_are_never_shown_and_tokens_are_redacted(tmp_path: Path) -> None:
    secret_urn, secret = _resource(SECRET)
    changed = copy.deepcopy(secret)
    changed["stringData"] = {"password": "hunter2-new"}
    map_urn, config_map = _resource(CONFIG_MAP)
    leaked = copy.deepcopy(config_map)
    key = next(iter(leaked["data"]))
    leaked["data"][key] = f"token {GITHUB_TOKEN}"
    log = _log(tmp_path, [
        ("update", secret_urn, {**secret, "stringData": {"password": "hunter2"}}, changed,
         _diff("stringData.password")),
        ("update", map_urn, config_map, leaked, _diff(f'data["{key}"]')),
    ])  # fmt: skip
    for fmt in ("markdown", "json"):
        run = infractl("preview-report", "--event-log", log, "--stack", "prod", "--format", fmt)
        assert run.code == 0, run.stderr
        assert "hunter2" not in run.stdout and GITHUB_TOKEN not in run.stdout
        assert "[secret]" in run.stdout.replace("\\[", "[").replace("\\]", "]")
        assert "redacted" in run.stdout


def test_long_values_are_cut_in_the_table_and_shown_as_a_diff(tmp_path: Path) -> None:
    urn, old = _resource(CONFIG_MAP)
    key = next(iter(old["data"]))
    new = copy.deepcopy(old)
    new["data"][key] = old["data"][key].replace('"', "'", 1) + "\n# one more line"
    run = infractl("preview-report", "--event-log",
                   _log(tmp_path, [("update", urn, old, new, _diff(f'data["{key}"]'))]),
                   "--stack", "prod")  # fmt: skip
    assert run.code == 0, run.stderr
    row = next(line for line in run.stdout.splitlines() if line.startswith("| ") and key in line)
    assert len(row) < 600 and "…" in row
    assert "1 long value(s) in full" in run.stdout
    assert "- `+# one more line`" in run.stdout
    assert_inert(run.stdout)


def test_a_replacement_names_the_property_that_forces_it(tmp_path: Path) -> None:
    urn, old = _resource(SERVICE)
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"] = "10.0.0.9"
    new["spec"]["ports"][0]["port"] = 8081
    meta = {"keys": ["spec"], **_diff("spec.ports[0].port")}
    meta["detailedDiff"]["spec.clusterIP"] = {"diffKind": "add-replace", "inputDiff": True}
    run = infractl("preview-report", "--event-log", _log(tmp_path, [("replace", urn, old, new,
                                                                      meta)]))  # fmt: skip
    assert run.code == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if line.startswith("| ")]
    whole = next(line for line in lines if "_(the resource)_" in line)
    assert "replaced: deleted, then created anew; forced by `spec.clusterIP`" in whole
    forcing = next(line for line in lines if "| `spec.clusterIP`" in line)
    assert "forces replacement" in forcing and "— → `10.0.0.9`" in forcing
    port = next(line for line in lines if "spec.ports" in line)
    was = old["spec"]["ports"][0]["port"]
    assert "forces replacement" not in port and f"`{was}` → `8081`" in port
    assert "⚠️ **Dangerous:** 1 replacement(s)." in run.stdout


def test_numbers_print_as_users_write_them(tmp_path: Path) -> None:
    urn, old = _resource("kubernetes:core/v1:ResourceQuota")
    new = copy.deepcopy(old)
    old["spec"]["hard"]["pods"], new["spec"]["hard"]["pods"] = 80.0, 60.0
    run = infractl(
        "preview-report",
        "--event-log",
        _log(tmp_path, [("update", urn, old, new, _diff("spec.hard.pods"))]),
    )
    assert "`80` → `60`" in run.stdout and "80.0" not in run.stdout  # fmt: skip


def test_context_names_the_versions_and_what_merging_does(tmp_path: Path) -> None:
    log = REPO / "tests" / "engine_outputs" / "recorded" / "prod-preview.jsonl"
    run = infractl("preview-report", "--event-log", log, "--stack", "prod", "--commit", "abc")
    assert run.code == 0, run.stderr
    assert "kubernetes 4.25.0 · pack tbcoin-platform-guardrails 0.1.0" in run.stdout
    # From .github/workflows/deploy.yml: prod's job waits for staging's, in `production`.
    assert (
        "on merge: the Deploy workflow's job “Deploy production” runs `pulumi up` once “Deploy "
        "staging” succeeded, in the GitHub environment `production`" in run.stdout
    )
    outside = infractl("preview-report", "--event-log", log, cwd=tmp_path)
    assert outside.code == 0 and "on merge" not in outside.stdout


def test_a_mandatory_violation_opens_the_comment_with_its_config_key(tmp_path: Path) -> None:
    urn, _ = _resource("kubernetes:argoproj.io/v1alpha1:Rollout")
    message = (
        "Production workloads serving traffic run >= 2 replicas with a disruption budget.\n"
        "Workload 'api' runs 1 replica; production needs 2. Fix: set services.<name>.replicas "
        ">= 2. Config key: tbcoin-platform:services.api.replicas."
    )
    events = [
        {"policyEvent": {"resourceUrn": urn, "message": message, "enforcementLevel": "mandatory",
                         "policyName": "k8s-production-high-availability", "severity": "high"}},
        {"summaryEvent": {"resourceChanges": {}, "result": "failed"}},
    ]  # fmt: skip
    log = tmp_path / "events.jsonl"
    log.write_text("\n".join(map(json.dumps, events)) + "\n")
    run = infractl("preview-report", "--event-log", log, "--stack", "prod")
    assert run.code == 2 and "not a complete plan" in run.stderr
    opening = run.stdout.splitlines()[3]
    assert opening.startswith(
        "❌ **1 mandatory policy violation(s)**: `pulumi up` would be refused"
    )
    row = next(line for line in run.stdout.splitlines() if "k8s-production" in line
               and line.startswith("| "))  # fmt: skip
    assert "| `tbcoin-prod-rollout-api` | `tbcoin-platform:services.api.replicas` |" in row
    assert row.endswith("Fix: set services.&lt;name&gt;.replicas &gt;= 2. |")


def test_the_comment_stays_under_githubs_limit_with_many_long_values(tmp_path: Path) -> None:
    urn, old = _resource(CONFIG_MAP)
    key = next(iter(old["data"]))
    steps = []
    for i in range(120):
        new = copy.deepcopy(old)
        new["data"][key] = f"{i}\n" + "x" * 3000
        steps.append(("update", f"{urn}-{i}", old, new, _diff(f'data["{key}"]')))
    report = parse_engine_output("big", _log(tmp_path, steps).read_text())
    text = markdown_report([("prod", report)])
    assert len(text) <= COMMENT_LIMIT
    assert "were left out to stay under GitHub's 65,536-character comment limit" in text


def test_no_changes_say_so(tmp_path: Path) -> None:
    quiet = REPO / "tests" / "engine_outputs" / "recorded" / "prod-drift-preview.jsonl"
    report = parse_engine_output("q", quiet.read_text())
    assert opening_line([("prod", report)]) == "✅ No changes."
    assert rank(report) == []


def test_a_section_added_to_the_list_appears_in_every_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Later sections (waivers, #34) extend the comment by joining SECTIONS."""

    def waivers(view: StackView) -> list[str]:
        return [f"**Waivers of {view.stack}:** none", ""]

    monkeypatch.setattr("infractl.ops.preview_report.SECTIONS", [*SECTIONS, waivers])
    report = parse_engine_output("w", _weakened_ruleset(tmp_path).read_text())
    text = markdown_report([("prod", report)], Context())
    assert "**Waivers of prod:** none" in text


def test_an_error_budget_override_in_force_is_in_every_preview(tmp_path: Path) -> None:
    """An override lets releases out with the budget spent, yet a preview that keeps it changes
    nothing about it: the override is read from every resource the stack goes on declaring,
    `same` steps included (mutation: from the changes only, it is missing). A template being
    deleted takes its override with it."""
    kept_urn, kept = _resource(ANALYSIS_TEMPLATE)
    kept["metadata"]["annotations"] = {BUDGET_OVERRIDE: "until 2026-12-20: INC-42 <b>hotfix</b>"}
    gone_urn, gone = _resource(ANALYSIS_TEMPLATE, 1)
    gone["metadata"]["annotations"] = {BUDGET_OVERRIDE: "until 2026-12-21: retired"}
    log = _log(tmp_path, [("same", kept_urn, kept, kept, {}), ("delete", gone_urn, gone, None, {})])
    text = markdown_report([("prod", parse_engine_output("o", log.read_text()))])
    name = kept["metadata"]["name"]
    (line,) = [x for x in text.splitlines() if name in x]
    assert line.startswith("> - ") and "until 2026-12-20: INC-42" in line and "<b>" not in line
    assert "**Error-budget gate overridden** in `prod`" in text
    assert "retired" not in text


def test_extending_an_error_budget_override_is_a_high_change(tmp_path: Path) -> None:
    # Without a rule of its own it would rank as a cosmetic annotation (low). An override added
    # where the template had no annotations is one `metadata.annotations` row (low), beside the
    # high rows of its dry-run metrics, and the comment lists the override itself.
    urn, old = _resource(ANALYSIS_TEMPLATE)
    old["metadata"]["annotations"] = {BUDGET_OVERRIDE: "until 2026-12-20: INC-42"}
    new = copy.deepcopy(old)
    new["metadata"]["annotations"] = {BUDGET_OVERRIDE: "until 2026-12-27: INC-42, one more week"}
    path = f'metadata.annotations["{BUDGET_OVERRIDE}"]'
    log = _log(tmp_path, [("update", urn, old, new, _diff(path))])
    (row,) = rank(parse_engine_output("o", log.read_text()))
    assert (row.severity, row.why) == (
        "high",
        "an error-budget override: releases go out with the budget spent",
    )


def test_an_update_that_names_no_property_is_still_a_row(tmp_path: Path) -> None:
    urn, inputs = _resource(CONFIG_MAP)
    report = parse_engine_output("u", _log(tmp_path, [("update", urn, inputs, inputs, {})])
                                 .read_text())  # fmt: skip
    (row,) = rank(report)
    assert (row.path, row.why) == ("", "changed; the engine output names no property")
    assert "no changes" not in markdown_report([("prod", report)])


def test_the_report_imports_no_sdk_and_no_config_model() -> None:
    """preview-report runs anywhere, quickly: the ranking and the context add no Pulumi SDK and
    no pydantic (mutation: importing the project's stack loader would bring pydantic). Only the
    comment's waivers part reads the project's waivers files, through the config model."""
    log = REPO / "tests" / "engine_outputs" / "recorded" / "prod-preview.jsonl"
    args: list[str | Path] = ["preview-report", "--event-log", log, "--stack", "prod"]
    args += ["--format", "json"]
    assert heavy_imports(args, ("pulumi", "pulumi_kubernetes", "pydantic")) == (0, [])
