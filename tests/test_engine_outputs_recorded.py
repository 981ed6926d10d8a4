"""`preview-report` and `drift` on real event logs of this program (tests/engine_outputs/recorded/,
made by `make e2e`): what the engine really emits, not a constructed stream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from e2e import stacks
from tests.conftest import REPO, infractl, write_stack

RECORDED = REPO / "tests" / "engine_outputs" / "recorded"
STACKS = ("staging", "prod")


def _summary(path: Path) -> dict[str, int]:
    for line in path.read_text().splitlines():
        event = json.loads(line)
        if "summaryEvent" in event:
            return dict(event["summaryEvent"]["resourceChanges"])
    raise AssertionError(f"{path} has no summary event")


@pytest.mark.parametrize("stack", STACKS)
def test_preview_report_counts_what_the_engine_planned(stack: str) -> None:
    log = RECORDED / f"{stack}-preview.jsonl"
    run = infractl("preview-report", "--stack", stack, "--event-log", log, "--format", "json")
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)["stacks"][0]
    creates = [c for c in report["changes"] if c["op"] == "create"]
    assert len(creates) == _summary(log)["create"] > 40
    markdown = infractl("preview-report", "--stack", stack, "--event-log", log)
    assert markdown.code == 0 and f"`{stack}`" in markdown.stdout


@pytest.fixture(scope="module")
def e2e_resources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """resources.json of the settings the recordings were made with (e2e/stacks.py)."""
    out: dict[str, Path] = {}
    for stack in STACKS:
        folder = tmp_path_factory.mktemp(stack)
        settings = write_stack(folder / f"Pulumi.{stack}.yaml", stacks.settings(stack))
        run = infractl(
            "synth",
            "--stack",
            stack,
            "--config-file",
            settings,
            "--out",
            folder / "synth",
            env=stacks.SECRET_ENV,
        )
        assert run.code == 0, run.stderr
        out[stack] = folder / "synth" / "resources.json"
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_drift_ranks_the_real_refresh_and_leaves_out_the_controllers_fields(
    stack: str, e2e_resources: dict[str, Path]
) -> None:
    run = infractl(
        "drift",
        "--stack",
        stack,
        "--input",
        RECORDED / f"{stack}-refresh-preview-only.jsonl",
        "--pending-input",
        RECORDED / f"{stack}-drift-preview.jsonl",
        "--resources",
        e2e_resources[stack],
    )
    assert run.code == 1, run  # drift, no pending changes
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ")][1:]
    namespace = f"tbcoin-{stack}"
    critical = [row for row in rows if "critical" in row]
    assert any(f"`namespace-{namespace}`" in r and "pod-security" in r for r in critical), rows
    assert any(f"`{namespace}-networkpolicy-default-deny`" in r for r in critical), rows
    # Canary weights are the Rollouts controller's; an autoscaled Rollout's replicas the HPA's.
    assert not any("httproute" in r for r in rows), rows
    if stack == "prod":
        assert not any("rollout-api" in r for r in rows), rows
    else:
        assert any("`tbcoin-staging-deployment-api`" in r and "spec.replicas" in r for r in rows)
    assert "Pending code changes:** none" in run.stdout


# What the recorded refreshes hold (tests/engine_outputs/recorded/README.md says the same): the
# harness also scales an autoscaled Rollout and moves canary weights, which the engine does not
# report (no declared replicas; spec.rules ignored), so asserting their absence proves nothing.
REFRESHED = {
    "prod": {
        ("update", "namespace-tbcoin-prod"),
        ("delete", "tbcoin-prod-networkpolicy-default-deny"),
    },
    "staging": {
        ("update", "namespace-tbcoin-staging"),
        ("delete", "tbcoin-staging-networkpolicy-default-deny"),
        ("update", "tbcoin-staging-deployment-api"),
        ("update", "tbcoin-staging-rollout-inference"),
    },
}


@pytest.mark.parametrize("stack", STACKS)
def test_the_recorded_refresh_holds_what_its_readme_says(stack: str) -> None:
    changed = set()
    for line in (RECORDED / f"{stack}-refresh-preview-only.jsonl").read_text().splitlines():
        outputs = json.loads(line).get("resOutputsEvent")
        if outputs and outputs["metadata"]["op"] != "same":
            changed.add((outputs["metadata"]["op"], outputs["metadata"]["urn"].split("::")[-1]))
    assert changed == REFRESHED[stack]


def test_a_real_change_of_prod_reads_as_values_causes_and_ranks() -> None:
    """The engine's own preview of an edit of the deployed prod stack (e2e/changes.py): each
    changed value old -> new, what forced each replacement (a ConfigMap is deleted before it is
    replaced, and the engine names the forcing property only on the replace step), the deleted
    autoscaler, counted as the engine counts."""
    log = RECORDED / "prod-change-preview.jsonl"
    run = infractl("preview-report", "--stack", "prod", "--event-log", log)
    assert run.code == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ")]

    def row(*parts: str) -> str:
        found = [r for r in rows if all(p in r for p in parts)]
        assert len(found) == 1, (parts, rows)
        return found[0]

    cpu = row("`tbcoin-prod-rollout-inference` Rollout", "resources.requests.cpu")
    assert "`500m` → `750m`" in cpu and "| update |" in cpu
    for service in ("api", "inference"):
        configmap = f"`monitoring-configmap-dashboard-tbcoin-prod-{service}`"
        dashboard = row(configmap, "_(the resource)_")
        assert f'forced by `data["tbcoin-prod-{service}.json"]`' in dashboard
    assert "| delete |" in row("`tbcoin-prod-horizontalpodautoscaler-api`")
    # Monitoring and analysis changes are ranked by rules of their own, not left unclassified:
    # a tighter gate and a rule's expression are high, an alert's wording is low.
    ranked = [r for r in rows if "AnalysisTemplate" in r or "PrometheusRule" in r]
    assert ranked and not [r for r in ranked if "not classified" in r]
    gate = row("`tbcoin-prod-analysistemplate-api-preview`", "failureCondition")
    assert "🟠 high" in gate and "what aborts it" in gate
    assert "🟠 high" in row("`tbcoin-prod-prometheusrule-tbcoin-prod-api`", "rules[9].expr`")
    wording = row("`tbcoin-prod-prometheusrule-tbcoin-prod-api`", "annotations.summary")
    assert "🟡 low" in wording and "alert text changed" in wording
    assert "### `prod`: 1 to delete, 2 to replace, 6 to update" in run.stdout


@pytest.mark.parametrize("log", sorted(RECORDED.glob("*.jsonl")), ids=lambda p: p.stem)
def test_every_policy_judged_the_recorded_runs(log: Path) -> None:
    """A policy the engine could not run ("can't run policy": it read a value unknown in preview)
    gates nothing; every recorded run of this program has every policy's verdict."""
    assert "can't run policy" not in log.read_text()
