"""The judges of make e2e's canary (e2e/canary.py), without Go: what they accept is the walk the
stack's steps describe, and each fails on the way the real controller was seen to break it (the
pauses skipped after an inconclusive first measurement, Argo Rollouts v1.9.0), on a gate passed
unpromoted, on `infractl rollout status` disagreeing with the controller, and on an analysis that
measured nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from e2e import stacks
from e2e.canary import (
    GATE,
    VS_STABLE,
    Sample,
    measured_problems,
    notification_problems,
    notification_text,
    status_problems,
    walk_problems,
)
from e2e.receiver import Received
from infractl.ops.rollouts import summary
from tests.conftest import REPO, manifests

# prod's inference steps as the e2e run deploys them (header step out, pauses shortened).
STEPS: list[dict[str, Any]] = [
    {"setWeight": 5},
    {"pause": {"duration": "1m"}},
    {"setWeight": 25},
    {"pause": {"duration": "1m"}},
    {"setWeight": 50},
    {"pause": {}},
]
INCONCLUSIVE = "InconclusiveAnalysisRun"


def _walk(pause_seconds: int = 61, gate_pods: int = 2, past_gate: bool = False) -> list[Sample]:
    """A release polled once a second: each timed pause held `pause_seconds`."""
    samples, at = [Sample(0, 0, (), 0, False)], 1.0
    for index, pods in ((1, 1), (3, 1), (5, gate_pods)):
        held = pause_seconds if index < 5 else 10
        for _ in range(held):
            samples.append(Sample(at, index, (GATE,), pods, False))
            at += 1
    if past_gate:
        samples.append(Sample(at, 6, (), 0, False))
    return samples


def test_the_walk_the_steps_describe_passes() -> None:
    assert walk_problems(STEPS, 3, _walk()) == []


def test_pauses_skipped_after_an_inconclusive_first_measurement_fail() -> None:
    """What the controller did before the canary's metrics waited a window: paused with
    InconclusiveAnalysisRun at step 0, then steps 1 to 4 in one second, no pause step held."""
    seen = [
        Sample(0, 0, (INCONCLUSIVE,), 1, False),
        Sample(1, 4, (INCONCLUSIVE,), 1, False),
        *[Sample(2 + i, 4, (INCONCLUSIVE,), 1, False) for i in range(30)],
    ]
    problems = walk_problems(STEPS, 3, seen)
    assert [p.split(" ", 2)[:2] for p in problems] == [["step", "1"], ["step", "3"], ["step", "5"]]
    assert all("never paused there" in p for p in problems)


def test_a_short_pause_too_few_canary_pods_and_an_open_gate_fail() -> None:
    assert walk_problems(STEPS, 3, _walk(pause_seconds=30)) == [
        "step 1: the pause of 1m lasted 30 s",
        "step 3: the pause of 1m lasted 30 s",
    ]
    assert walk_problems(STEPS, 3, _walk(gate_pods=1)) == ["step 5: 1 canary pod(s) at 50%, not 2"]
    assert walk_problems(STEPS, 3, _walk(past_gate=True)) == [
        "step 5: the gate let the release through unpromoted"
    ]


def _status() -> dict[str, Any]:
    return {"phase": "Paused", "currentStepIndex": 5, "stableRS": "aaa", "currentPodHash": "bbb"}


SHOWN = (
    "Rollout tbcoin-prod/inference: Paused\n  step: 5/6\n  paused: CanaryPauseStep "
    "(promote to continue)\n  stable: aaa, current: bbb\n"
)


def test_status_that_agrees_with_the_controller_passes() -> None:
    assert status_problems(_status(), 6, SHOWN, 0, (f"paused: {GATE}",)) == []


def test_status_that_disagrees_with_the_controller_fails() -> None:
    assert status_problems(_status(), 6, SHOWN.replace("5/6", "4/6"), 0) == [
        "does not say 'step: 5/6'"
    ]
    assert status_problems(_status(), 6, SHOWN, 1) == ["exit 1 for phase Paused"]
    degraded = {**_status(), "phase": "Degraded", "abort": True}
    shown = SHOWN.replace("Paused\n", "Degraded\n")
    assert status_problems(degraded, 6, shown, 0) == ["exit 0 for phase Degraded"]
    assert status_problems(_status(), 6, SHOWN, 0, ("aborted: traffic",)) == [
        "does not say 'aborted: traffic'"
    ]


EXPR = 'app_track:http_error_ratio:rate5m{track="canary"} > 0.05'


def _run(error_ratio: str, fired: str, phase: str, query: str = EXPR) -> dict[str, Any]:
    def result(name: str, value: str, phase: str = "Running") -> dict[str, Any]:
        return {"name": name, "phase": phase, "measurements": [{"value": value}]}

    return {
        "spec": {"metrics": [{"name": VS_STABLE, "provider": {"prometheus": {"query": query}}}]},
        "status": {
            "metricResults": [
                result("error-ratio", error_ratio, phase),
                result("latency-p95", "[0.0475]"),
                result(VS_STABLE, fired),
            ]
        },
    }


def test_an_analysis_of_real_series_passes() -> None:
    assert measured_problems(_run("[0]", "[]", "Running"), EXPR, failing=False) == []
    assert measured_problems(_run("[0.5]", "[0.5]", "Failed"), EXPR, failing=True) == []


def test_an_analysis_that_measured_nothing_or_the_wrong_thing_fails() -> None:
    nothing = _run("", "[]", "Running")
    assert "error-ratio: no measurement" in measured_problems(nothing, EXPR, failing=False)
    # A failing canary the canary-vs-stable metric did not see: its series were not there.
    silent = measured_problems(_run("[0.5]", "[]", "Failed"), EXPR, failing=True)
    assert silent == [f"{VS_STABLE}: fired 0 time(s), failing True"]
    passed = measured_problems(_run("[0.5]", "[0.5]", "Running"), EXPR, failing=True)
    assert passed == ["error-ratio: Running"]
    other = measured_problems(_run("[0]", "[]", "Running", query="up"), EXPR, failing=False)
    assert other == [f"{VS_STABLE} is not CanaryErrorRateAboveStable's expression"]


PATH = "/services/e2e/releases"


def _post(body: dict[str, Any], path: str = PATH, content_type: str = "application/json") -> Any:
    return Received("POST", path, content_type, json.dumps(body).encode())


def test_the_gate_notification_as_the_stack_templates_it_passes() -> None:
    text = notification_text("gate", "prod", "tbcoin-prod", "inference", "2")
    assert text.startswith("Release of tbcoin-prod/inference (revision 2) waits at its promotion")
    assert "`infractl rollout promote --stack prod --service inference`" in text
    other = _post({"text": "Release of tbcoin-prod/api aborted", "channel": "#a"})
    posts = [other, _post({"text": text, "channel": "#a"})]
    assert notification_problems(posts, text, "#a", PATH) == []


def test_a_missing_doubled_or_misaddressed_notification_fails() -> None:
    text = notification_text("aborted", "prod", "tbcoin-prod", "inference", "")
    right = _post({"text": text, "channel": "#a"})
    assert notification_problems([], text, "#a", PATH)[0].startswith("0 posts")
    assert notification_problems([right, right], text, "#a", PATH)[0].startswith("2 posts")
    assert notification_problems([_post({"text": text})], text, "#a", PATH) == [
        f"body {{'text': {text!r}}}, not {{'text': {text!r}, 'channel': '#a'}}"
    ]
    elsewhere = _post({"text": text, "channel": "#a"}, path="/other", content_type="text/plain")
    assert notification_problems([elsewhere], text, "#a", PATH) == [
        "posted to /other as 'text/plain'"
    ]
    # Another revision's gate is not this release's.
    gate2, gate3 = (notification_text("gate", "prod", "tbcoin-prod", "inference", r) for r in "23")
    assert notification_problems([_post({"text": gate3})], gate2, None, PATH)[0].startswith(
        "0 posts"
    )


# The stages of make e2e's canary as the real controller left them (`python -m e2e.run --record`).
RECORDED = REPO / "tests" / "engine_outputs" / "recorded" / "rollouts"
STAGES = {
    "edited": (),
    "at-gate": (f"paused: {GATE}",),
    "promoted": (),
    "aborted-by-analysis": ("aborted: traffic is back on the stable version",),
}


@pytest.mark.parametrize("stage", STAGES)
def test_infractl_status_agrees_with_each_recorded_canary_stage(stage: str) -> None:
    """What `infractl rollout status` says of the Rollout at each stage, offline, is what the
    run checked against the controller."""
    rollout = json.loads((RECORDED / f"prod-inference-{stage}.json").read_text())
    text, trouble = summary(rollout)
    steps = len(rollout["spec"]["strategy"]["canary"]["steps"])
    assert status_problems(rollout["status"], steps, text, int(trouble), STAGES[stage]) == []


@pytest.mark.parametrize(("outcome", "failing"), [("at-gate", False), ("failed", True)])
def test_the_recorded_canary_analyses_measured_our_queries(
    outcome: str, failing: bool, synthesized: Callable[[str], Path]
) -> None:
    """The background AnalysisRuns the controller ran: the canary-vs-stable metric is the alert's
    expression as the program writes it, it fired only on the failing canary, and every metric
    waited as long as the template says."""
    run = json.loads((RECORDED / f"prod-inference-analysisrun-{outcome}.json").read_text())
    found = manifests(synthesized("prod"))
    rule = next(m for m in found if m["metadata"]["name"] == "tbcoin-prod-inference"
                and m["kind"] == "PrometheusRule")  # fmt: skip
    expr = next(
        r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]
        if r.get("alert") == "CanaryErrorRateAboveStable"
    )  # fmt: skip
    assert measured_problems(run, expr, failing) == []
    template = next(m for m in found if m["kind"] == "AnalysisTemplate"
                    and m["metadata"]["name"] == "inference-canary")  # fmt: skip
    # Recorded with the run's analysis window (e2e/stacks.py), the template's metrics delayed.
    window = stacks.E2E_ANALYSIS["window"]
    delays = {
        m["name"]: window if "initialDelay" in m else None for m in template["spec"]["metrics"]
    }
    assert {m["name"]: m.get("initialDelay") for m in run["spec"]["metrics"]} == delays
