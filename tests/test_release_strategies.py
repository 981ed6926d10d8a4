"""Blue-green and canary as Argo Rollouts, checked on synthesized stacks: what the controller is
given, what Pulumi leaves to it, and what a release changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import infractl, manifests, resources

NEW_DIGEST = "sha256:" + "ab" * 32


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            p for k in sorted(set(a) | set(b)) for p in _diff(a.get(k), b.get(k), f"{path}/{k}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            p
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for p in _diff(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [path]


def _by_urn(out: Path) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for r in resources(out)}


def _object(out: Path, kind: str, name: str) -> dict[str, Any]:
    return next(m for m in manifests(out) if m["kind"] == kind and m["metadata"]["name"] == name)


def _options(out: Path, kind: str, name: str) -> dict[str, Any]:
    return next(
        r["options"]
        for r in resources(out)
        if r["type"].endswith(f":{kind}") and r["inputs"]["metadata"]["name"] == name
    )


def test_changing_only_the_image_changes_only_the_rollouts_pod_template(
    synthesized: Callable[[str], Path], mutated_stack: Callable[..., Path], tmp_path: Path
) -> None:
    """A release is one reviewed change: the image digest. Nothing but the pod template moves,
    so the controller (not Pulumi) walks traffic over."""
    before = _by_urn(synthesized("prod"))

    def release(config: dict[str, Any]) -> None:
        config["tbcoin-platform:services"]["inference"]["strategy"]["image"] = NEW_DIGEST

    stack_file = mutated_stack(release)
    out = tmp_path / "out"
    run = infractl("synth", "--stack", "prod", "--config-file", stack_file, "--out", out)
    assert run.code == 0, run.stderr
    after = _by_urn(out)
    assert set(before) == set(after)
    changed = {urn.rsplit("::", 1)[1]: _diff(before[urn], after[urn]) for urn in before}
    changed = {name: paths for name, paths in changed.items() if paths}
    image = "/inputs/spec/template/spec/containers[0]/image"
    assert changed == {"tbcoin-prod-rollout-inference": [image]}
    rollout = _object(out, "Rollout", "inference")
    assert rollout["spec"]["template"]["spec"]["containers"][0]["image"].endswith(NEW_DIGEST)


def test_canary_rollout_drives_our_route_with_analysis(synthesized: Callable[[str], Path]) -> None:
    out = synthesized("prod")
    rollout = _object(out, "Rollout", "inference")
    canary = rollout["spec"]["strategy"]["canary"]
    assert (canary["stableService"], canary["canaryService"]) == (
        "inference-stable",
        "inference-canary",
    )
    assert canary["trafficRouting"]["plugins"]["argoproj-labs/gatewayAPI"] == {
        "httpRoutes": [{"name": "inference", "useHeaderRoutes": True}],
        "namespace": "tbcoin-prod",
        "disableInProgressLabel": True,
    }
    # Steps from config, the header route right after the first weight (the canary has pods by
    # then), the human gate last (a pause without duration).
    steps = canary["steps"]
    header = steps.pop(1)
    assert header["setHeaderRoute"]["match"] == [
        {"headerName": "x-canary", "headerValue": {"exact": "always"}}
    ]
    assert canary["trafficRouting"]["managedRoutes"] == [{"name": header["setHeaderRoute"]["name"]}]
    assert steps == [
        {"setWeight": 5}, {"pause": {"duration": "10m"}},
        {"setWeight": 25}, {"pause": {"duration": "10m"}},
        {"setWeight": 50}, {"pause": {}},
    ]  # fmt: skip
    assert canary["analysis"]["startingStep"] == 0
    template = canary["analysis"]["templates"][0]["templateName"]
    assert _object(out, "AnalysisTemplate", template)["spec"]["metrics"]
    # Track labels stay: dashboards and alerts keep telling stable from canary.
    assert canary["canaryMetadata"] == {"labels": {"tbcoin.io/track": "canary"}}
    assert canary["stableMetadata"] == {"labels": {"tbcoin.io/track": "stable"}}
    # Explicit weights: an omitted weight would mean 1, a 50/50 split until the controller acts.
    route = _object(out, "HTTPRoute", "inference")
    (rule,) = route["spec"]["rules"]
    assert {b["name"]: b["weight"] for b in rule["backendRefs"]} == {
        "inference-stable": 100,
        "inference-canary": 0,
    }


def test_blue_green_rollout_analyses_the_preview_and_waits_for_promotion(
    synthesized: Callable[[str], Path],
) -> None:
    out = synthesized("prod")
    bg = _object(out, "Rollout", "api")["spec"]["strategy"]["blueGreen"]
    assert (bg["activeService"], bg["previewService"]) == ("api", "api-preview")
    assert bg["autoPromotionEnabled"] is False
    assert bg["scaleDownDelaySeconds"] == 600
    (template,) = bg["prePromotionAnalysis"]["templates"]
    metrics = _object(out, "AnalysisTemplate", template["templateName"])["spec"]["metrics"]
    # The version's own metrics measure the preview; the budget gate the whole service.
    own = [m for m in metrics if not m["name"].endswith("-budget")]
    assert all('track="preview"' in m["provider"]["prometheus"]["query"] for m in own)
    assert len(own) == 2 and len(metrics) == 4
    # The controller (v1.9.0) refuses a Rollout whose pre-promotion metric has no count ("runs
    # indefinitely") and deploys nothing of it: one 2m window of 1m intervals, two measurements.
    assert {m["count"] for m in metrics} == {2}
    assert all(m["count"] >= m["failureLimit"] + 1 for m in metrics)
    # The canary's background analysis is meant to run for the whole release.
    canary = _object(out, "AnalysisTemplate", "inference-canary")["spec"]["metrics"]
    assert all("count" not in m for m in canary)


def test_pulumi_leaves_controller_owned_fields_alone(synthesized: Callable[[str], Path]) -> None:
    out = synthesized("prod")
    owned = {
        ("HTTPRoute", "inference"): ["spec.rules"],
        ("Service", "inference-stable"): ["spec.selector"],
        ("Service", "inference-canary"): ["spec.selector"],
        ("Service", "api"): ["spec.selector"],
        ("Service", "api-preview"): ["spec.selector"],
    }
    for (kind, name), fields in owned.items():
        assert _options(out, kind, name).get("ignoreChanges") == fields, (kind, name)
    # No other Kubernetes object ignores anything: Pulumi still owns them fully.
    ignored = [
        r["urn"]
        for r in resources(out)
        if r["type"].startswith("kubernetes:") and r["options"].get("ignoreChanges")
    ]
    assert len(ignored) == len(owned)
    # HPAs scale the Rollouts, which therefore declare no replica count.
    for name in ("api", "inference"):
        hpa = _object(out, "HorizontalPodAutoscaler", name)
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "name": name,
        }
        assert "replicas" not in _object(out, "Rollout", name)["spec"]


def test_staging_releases_a_service_as_prod_does(synthesized: Callable[[str], Path]) -> None:
    staging, prod = synthesized("staging"), synthesized("prod")
    ours = _object(staging, "Rollout", "inference")["spec"]["strategy"]["canary"]
    theirs = _object(prod, "Rollout", "inference")["spec"]["strategy"]["canary"]
    # Only the configured steps differ, and the route's namespace, each stack's own.
    steps, theirs_steps = ours.pop("steps"), theirs.pop("steps")
    gateway, theirs_gateway = (
        s["trafficRouting"]["plugins"]["argoproj-labs/gatewayAPI"] for s in (ours, theirs)
    )
    assert (gateway.pop("namespace"), theirs_gateway.pop("namespace")) == (
        "tbcoin-staging",
        "tbcoin-prod",
    )
    assert ours == theirs
    # Both set the header route after their first weight and end at the human gate: a pause
    # without a duration.
    assert steps[1] == theirs_steps[1] and "setHeaderRoute" in steps[1]
    assert steps[-1] == theirs_steps[-1] == {"pause": {}}


def test_monitoring_scrapes_each_pod_once(synthesized: Callable[[str], Path]) -> None:
    """The controller points stable and canary Services at the same pods between releases: the
    ServiceMonitor selects only the headless metrics Service, so no pod is scraped twice."""
    out = synthesized("prod")
    monitor = _object(out, "ServiceMonitor", "inference")
    selected = [
        m["metadata"]["name"]
        for m in manifests(out)
        if m["kind"] == "Service"
        and m["metadata"]["namespace"] == "tbcoin-prod"
        and monitor["spec"]["selector"]["matchLabels"].items() <= m["metadata"]["labels"].items()
    ]
    assert selected == ["inference-metrics"]


def test_the_budget_gate_holds_every_release_and_an_override_lets_it_through_in_dry_run(
    synthesized: Callable[[str], Path], mutated_stack: Callable[..., Path], tmp_path: Path
) -> None:
    """Both analyses gate on both error budgets at the configured floor; an override keeps
    measuring them (dry-run: shown, not counted) and carries its reason and expiry."""
    import datetime

    for name in ("inference-canary", "api-preview"):
        template = _object(synthesized("prod"), "AnalysisTemplate", name)
        gates = {m["name"]: m for m in template["spec"]["metrics"] if m["name"].endswith("budget")}
        assert set(gates) == {"availability-budget", "latency-budget"}
        assert all("result[0] < 0.1" in g["failureCondition"] for g in gates.values())
        assert "dryRun" not in template["spec"]
        assert "annotations" not in template["metadata"]

    expires = str(datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=2))

    def override(config: dict[str, Any]) -> None:
        analysis = config["tbcoin-platform:services"]["inference"]["strategy"]["analysis"]
        analysis["budgetOverride"] = {"reason": "hotfix for INC-42, approved by on-call lead",
                                      "expires": expires}  # fmt: skip

    out = tmp_path / "out"
    run = infractl(
        "synth", "--stack", "prod", "--config-file", mutated_stack(override), "--out", out
    )
    assert run.code == 0, run.stderr
    template = _object(out, "AnalysisTemplate", "inference-canary")
    assert template["spec"]["dryRun"] == [
        {"metricName": "availability-budget"},
        {"metricName": "latency-budget"},
    ]
    assert template["metadata"]["annotations"] == {
        "tbcoin.io/budget-override": f"until {expires}: hotfix for INC-42, approved by on-call lead"
    }
    # Only the service named: the other keeps its gate.
    assert "dryRun" not in _object(out, "AnalysisTemplate", "api-preview")["spec"]


def test_an_override_is_listed_for_the_preview_with_its_reason_made_inert(
    synthesized: Callable[[str], Path], mutated_stack: Callable[..., Path], tmp_path: Path
) -> None:
    """Every preview of a stack that carries an override says so, from the AnalysisTemplate's
    inputs; the reason is text someone typed, so it reaches the PR comment inert."""
    import datetime

    from infractl.ops.budget_overrides import override_lines, overrides

    def inputs(out: Path) -> list[tuple[str, dict[str, Any]]]:
        return [(r["type"], r["inputs"]) for r in resources(out)]

    assert overrides(inputs(synthesized("prod"))) == []
    assert override_lines("prod", []) == []
    expires = str(datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1))
    reason = "hotfix @oncall-team <img src=x> `INC-42` [link](https://x.example)"

    def override(config: dict[str, Any]) -> None:
        analysis = config["tbcoin-platform:services"]["api"]["strategy"]["analysis"]
        analysis["budgetOverride"] = {"reason": reason, "expires": expires}

    out = tmp_path / "out"
    run = infractl(
        "synth", "--stack", "prod", "--config-file", mutated_stack(override), "--out", out
    )
    assert run.code == 0, run.stderr
    found = overrides(inputs(out))
    assert found == [("api-preview", f"until {expires}: {reason}")]
    shown = "\n".join(override_lines("prod", found))
    assert "Error-budget gate overridden" in shown and f"until {expires}" in shown
    # No mention, no HTML, no code span or link of the reason's own.
    assert "@oncall" not in shown and "<img" not in shown
    assert "\\`INC-42\\`" in shown and "\\[link\\]" in shown
