"""The judges of make e2e's canary (e2e/canary.py), without Go: what they accept is the walk the
stack's steps describe, and each fails on the way the real controller was seen to break it (the
pauses skipped after an inconclusive first measurement, Argo Rollouts v1.9.0), on a gate passed
unpromoted, on `infractl rollout status` disagreeing with the controller, and on an analysis that
measured nothing."""

from __future__ import annotations

from typing import Any

from e2e.canary import GATE, VS_STABLE, Sample, measured_problems, status_problems, walk_problems

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
