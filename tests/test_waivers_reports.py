"""Where people see waivers: the PR preview (what a change adds, uses or lets lapse, and what
expires within 14 days) and the drift issue (the waivers of the stack). The violations are the
engine's policy events as the pack words them (tests/test_waivers_pack.py holds the pack to the
wording `waived_by` reads)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from infra.config.waivers import Waiver, WaiverFile
from infractl.ops.drift import analyse, drift_markdown
from infractl.ops.engine_output import EngineReport, PolicyViolation
from infractl.ops.waiver_changes import waivers_section
from infractl.waivers import standings, waived_by
from tests.conftest import REPO, infractl

ON = datetime.date(2026, 12, 7)
URN = "urn:pulumi:staging::tbcoin-platform::kubernetes:core/v1:Pod::privileged"


def _waiver(**fields: Any) -> Waiver:
    values = {
        "policy": "k8s-pod-security-restricted",
        "urn": URN,
        "reason": "incident 42: the debug pod needs NET_ADMIN",
        "approved_by": "@tbcoin/security",
        "granted": "2026-12-01",
        "expires": "2027-01-15",
        **fields,
    }
    return Waiver.model_construct(**values)  # the reader's checks are tested elsewhere


def _file(**waivers: Waiver) -> WaiverFile:
    return WaiverFile("staging", "policies/waivers/staging.json", waivers)


def _violation(message: str, level: str = "advisory") -> PolicyViolation:
    return PolicyViolation(
        "k8s-pod-security-restricted", "tbcoin-platform-guardrails", level, "high", URN, message
    )


WAIVED = (
    "Every pod template meets Pod Security 'restricted' (plus a read-only root).\n"
    "Waived by 'debug-pod' (expires 2027-01-15, approved by @tbcoin/security): Container 'c' is "
    "privileged. Fix: build workloads with infra/kubernetes/workload.py."
)


def _report(*violations: PolicyViolation) -> EngineReport:
    report = EngineReport("events.jsonl", "event-log")
    report.violations.extend(violations)
    return report


def test_the_mark_is_read_on_the_first_line_or_after_the_description() -> None:
    assert waived_by(WAIVED) == "debug-pod"
    assert waived_by(WAIVED.split("\n", 1)[1]) == "debug-pod"
    assert (
        waived_by("Container 'c' is privileged. Waived by 'debug-pod' (expires x, approved by y): ")
        == ""
    )


def test_the_preview_lists_what_the_change_adds_uses_and_lets_lapse() -> None:
    head = _file(
        **{
            "debug-pod": _waiver(),
            "soon": _waiver(name="api-*", urn=None, expires="2026-12-20"),
            "renewed": _waiver(granted="2026-12-07", expires="2027-03-01"),
            "lapsed": _waiver(granted="2026-10-01", expires="2026-12-07"),
        }
    )
    base = _file(
        **{
            "soon": _waiver(name="api-*", urn=None, expires="2026-12-20"),
            "renewed": _waiver(),
            "lapsed": _waiver(granted="2026-10-01", expires="2026-12-07"),
            "gone": _waiver(policy="k8s-probes"),
        }
    )
    lines = waivers_section("staging", _report(_violation(WAIVED)), head, base, ON)
    assert lines[0] == (
        "**Policy waivers** (`policies/waivers/staging.json`): 5, 3 to look at (❌ expired or "
        "stale, ⏳ expiring within 14 days)"
    )
    rows = {line.split(" | ")[0].strip("| `"): line for line in lines[4:-1]}
    assert "| added |" in rows["debug-pod"] and "in force, waives 1 violation" in rows["debug-pod"]
    assert "| changed |" in rows["renewed"] and "❌ stale: waives nothing" in rows["renewed"]
    assert "| — |" in rows["soon"]
    assert (
        "❌ stale: waives nothing; expires 2026-12-20, in 13 days (expiring soon)" in rows["soon"]
    )
    assert "| ❌ expired on 2026-12-07: its violations count again |" in rows["lapsed"]
    assert "| removed |" in rows["gone"] and "lets lapse: removed" in rows["gone"]


def test_no_waivers_no_section() -> None:
    assert waivers_section("staging", _report(), _file(), _file(), ON) == []


def test_the_drift_issue_lists_the_waivers_of_the_stack() -> None:
    report = analyse("staging", _report(), None, None)
    report.waivers = standings(
        _file(**{"debug-pod": _waiver(), "old": _waiver(expires="2026-12-01")}), None, ON
    )
    text = drift_markdown(report)
    assert "**Policy waivers** (2): each excuses one policy" in text
    assert "| `debug-pod` | `k8s-pod-security-restricted` | `urn " in text
    assert "| in force; expires 2027-01-15, in 39 days |" in text
    assert "| ❌ expired on 2026-12-01: its violations count again |" in text


@pytest.fixture
def project_with_waivers(tmp_path: Path) -> Path:
    import shutil

    from e2e.waivers import copy_pack

    copy_pack(tmp_path)
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    (tmp_path / "policies" / "waivers").mkdir()
    today = datetime.datetime.now(datetime.UTC).date()
    waiver = {
        "policy": "k8s-pod-security-restricted",
        "urn": URN,
        "reason": "incident 42: the debug pod needs NET_ADMIN",
        "approvedBy": "@tbcoin/security",
        "granted": today.isoformat(),
        "expires": (today + datetime.timedelta(days=10)).isoformat(),
    }
    (tmp_path / "policies" / "waivers" / "staging.json").write_text(
        json.dumps({"debug-pod": waiver})
    )
    return tmp_path


def test_preview_report_appends_the_waivers_of_the_project(
    project_with_waivers: Path, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    lines = [
        {"sequence": 0, "timestamp": 1, "preludeEvent": {"config": {}}},
        {
            "sequence": 1,
            "timestamp": 1,
            "policyEvent": {
                "resourceUrn": URN, "message": WAIVED, "color": "never",
                "policyName": "k8s-pod-security-restricted",
                "policyPackName": "tbcoin-platform-guardrails", "policyPackVersion": "0.1.0",
                "policyPackVersionTag": "0.1.0", "enforcementLevel": "advisory",
                "severity": "high",
            },
        },
        {
            "sequence": 2,
            "timestamp": 1,
            "summaryEvent": {
                "maybeCorrupt": False, "durationSeconds": 1, "resourceChanges": {},
                "policyPacks": {},
            },
        },
    ]  # fmt: skip
    events.write_text("".join(json.dumps(line) + "\n" for line in lines))
    run = infractl(
        "preview-report", "--event-log", events, "--stack", "staging",
        "--waivers-base", REPO, cwd=project_with_waivers,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert "#### `staging`: policy waivers" in run.stdout
    assert "| `debug-pod` | added | `k8s-pod-security-restricted` |" in run.stdout
    assert "⏳ in force, waives 1 violation; expires" in run.stdout
