"""The policy pack sees inside the charts: findings on rendered chart objects match the reviewed
baseline (policies/chart-baseline.yaml) exactly, for both stacks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from infractl.policy.analyzer import RunningPack, running_pack
from infractl.policy.charts import (
    BASELINE,
    Key,
    Obj,
    chart_resources,
    findings,
    judge,
    load_baseline,
    new_findings,
)
from infractl.policy.check import analyze
from infractl.policy.report import text_report
from infractl.project import PROJECT
from tests.charts import render_release
from tests.conftest import REPO, infractl, synth


def compare(found: dict[Key, list[str]], accepted: dict[Key, str], checked: set[str]) -> list[str]:
    """Problems: findings not in the baseline, and entries (for releases that were checked)
    that nothing matches any more."""
    stale = [
        f"stale baseline entry (no longer found): {release} {obj}: {policy}"
        for (release, obj, policy) in sorted(accepted)
        if release in checked
        and (release, obj, policy) not in found
        and not policy.startswith("kube-score/")  # tests/test_workload_checkers.py's
    ]
    return new_findings(found, accepted) + stale


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
        charts = chart_resources(result.resources, render)
        checked |= {c.name.partition(":")[0] for c in charts.values()}
        resources = [*result.resources, *charts.values()]
        analyzed = analyze(pack, stack, resources, _policy_config(stack), {}, [])
        for key, messages in findings(analyzed, charts).items():
            found.setdefault(key, []).extend(m for m in messages if m not in found.get(key, []))
    return found, checked


def test_chart_findings_match_the_reviewed_baseline(pack: RunningPack) -> None:
    found, checked = _all_findings(pack)
    assert checked == {"kube-prometheus-stack", "loki", "alloy", "envoy-gateway", "argo-rollouts"}
    assert compare(found, load_baseline(REPO / BASELINE), checked) == []


def test_a_weakened_chart_object_is_a_new_finding(pack: RunningPack) -> None:
    def weakened(release: Obj) -> list[Obj]:
        objects = render_release(release)
        for obj in objects:
            if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "argo-rollouts":
                container = obj["spec"]["template"]["spec"]["containers"][0]
                container["securityContext"]["privileged"] = True
        return objects

    found, checked = _all_findings(pack, weakened)
    problems = compare(found, load_baseline(REPO / BASELINE), checked)
    assert problems == [
        "new finding: argo-rollouts Deployment argo-rollouts/argo-rollouts: "
        "k8s-pod-security-restricted: Container 'argo-rollouts' is privileged. "
        "Fix: build workloads with infra/kubernetes/workload.py, whose securityContext sets all "
        "of these."
    ]


def test_a_fixed_finding_leaves_a_stale_baseline_entry() -> None:
    accepted = load_baseline(REPO / BASELINE)
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


def test_check_charts_passes_with_the_baseline_and_counts_what_it_accepts() -> None:
    run = infractl("check", "--stack", "staging", "--charts")
    assert run.code == 0, run.stderr + run.stdout
    assert re.search(
        r"^charts: \d+ rendered objects, [1-9]\d* accepted finding\(s\)", run.stdout, re.M
    )
    assert "\npassed: 0 mandatory," in run.stdout


def test_check_charts_fails_naming_a_finding_the_baseline_lacks(
    pack: RunningPack, tmp_path: Path
) -> None:
    result = synth("staging")[0]
    charts = chart_resources(result.resources, render_release)
    resources = [*result.resources, *charts.values()]
    key = ("argo-rollouts", "Deployment argo-rollouts/argo-rollouts", "k8s-images-pinned")
    document = yaml.safe_load((REPO / BASELINE).read_text())
    del document[key[0]][key[1]][key[2]]
    baseline = tmp_path / "chart-baseline.yaml"
    baseline.write_text(yaml.safe_dump(document))

    checked = analyze(pack, "staging", resources, _policy_config("staging"), {}, [])
    judge(checked, charts, baseline)
    assert checked.charts is not None and checked.failed
    (line,) = checked.charts.new
    assert line.startswith(f"new finding: {key[0]} {key[1]}: {key[2]}: ")
    assert "new finding: " + line.partition("new finding: ")[2] in text_report(checked)
    assert checked.resources == len(result.resources)


def test_check_charts_without_the_renderer_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "helm_python.py").write_text("raise ImportError('not installed')\n")
    run = infractl("check", "--stack", "staging", "--charts", env={"PYTHONPATH": str(tmp_path)})
    assert run.code == 2
    assert run.stderr.count("\n") == 1
    assert ".venv/bin/uv pip install -e '.[test]'" in run.stderr
