"""The policy pack sees inside the charts: findings on rendered chart objects match the reviewed
baseline (policies/chart-baseline.yaml) exactly, for both stacks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infractl.policy.analyzer import RunningPack, running_pack
from infractl.project import PROJECT
from tests.chart_findings import (
    Key,
    chart_resources,
    compare,
    findings,
    load_baseline,
)
from tests.charts import Obj, render_release
from tests.conftest import REPO, synth

STACKS = ("staging", "prod")


@pytest.fixture(scope="module")
def pack() -> Iterator[RunningPack]:
    with running_pack(REPO / "policies", project=PROJECT, stack="prod", config={}) as running:
        yield running


def _policy_config(stack: str) -> Path:
    return REPO / "policies" / "config" / f"{stack}.json"


def _all_findings(
    pack: RunningPack, render: Callable[[Obj], list[Obj]] = render_release
) -> tuple[dict[Key, list[str]], set[str]]:
    found: dict[Key, list[str]] = {}
    checked: set[str] = set()
    for stack in STACKS:
        result = synth(stack)[0]
        charts = chart_resources(result, render)
        checked |= {c.name.partition(":")[0] for c in charts.values()}
        for key, messages in findings(pack, result, _policy_config(stack), charts).items():
            found.setdefault(key, []).extend(m for m in messages if m not in found.get(key, []))
    return found, checked


def test_chart_findings_match_the_reviewed_baseline(pack: RunningPack) -> None:
    started = time.perf_counter()
    found, checked = _all_findings(pack)
    assert checked == {"kube-prometheus-stack", "loki", "alloy", "envoy-gateway", "argo-rollouts"}
    assert compare(found, load_baseline(), checked) == []
    assert time.perf_counter() - started < 60


def test_a_weakened_chart_object_is_a_new_finding(pack: RunningPack) -> None:
    def weakened(release: Obj) -> list[Obj]:
        objects = render_release(release)
        for obj in objects:
            if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "argo-rollouts":
                container = obj["spec"]["template"]["spec"]["containers"][0]
                container["securityContext"]["privileged"] = True
        return objects

    found, checked = _all_findings(pack, weakened)
    problems = compare(found, load_baseline(), checked)
    assert problems == [
        "new finding: argo-rollouts Deployment argo-rollouts/argo-rollouts: "
        "k8s-pod-security-restricted: Container 'argo-rollouts' is privileged. "
        "Fix: build workloads with infra/kubernetes/workload.py, whose securityContext sets all "
        "of these."
    ]


def test_a_fixed_finding_leaves_a_stale_baseline_entry() -> None:
    accepted = load_baseline()
    key = ("argo-rollouts", "Deployment argo-rollouts/argo-rollouts", "k8s-images-pinned")
    assert key in accepted
    assert compare({}, {key: accepted[key]}, {"argo-rollouts"}) == [
        "stale baseline entry (no longer found): argo-rollouts Deployment "
        "argo-rollouts/argo-rollouts: k8s-images-pinned"
    ]


def test_an_entry_without_a_reason_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text("loki:\n  Pod monitoring/x:\n    k8s-probes: ''\n")
    with pytest.raises(ValueError, match="loki / Pod monitoring/x / k8s-probes: no reason"):
        load_baseline(path)
