"""The Argo Rollouts controller as the vendored chart renders it with the project's values: the
plugin comes from a digest-pinned image through a file:// location (no download), every container
meets Pod Security `restricted`, RBAC covers Gateway API routes only, the project's ServiceMonitor
and NetworkPolicies select what the chart really creates, and the vendored CRDs are the chart's."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
import yaml

from infractl.policy.charts import HELM_RELEASE, render
from tests.charts import CrdLoader, render_release
from tests.conftest import REPO, manifests, resources, tool_path, vendored

Obj = dict[str, Any]
PLUGIN_IMAGE = "ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi@sha256:"


def _release(out: Path) -> Obj:
    return next(
        r for r in resources(out)
        if r["type"] == HELM_RELEASE and r["inputs"]["name"] == "argo-rollouts"
    )  # fmt: skip


@pytest.fixture(scope="module")
def rendered(synthesized: Callable[[str], Path]) -> list[Obj]:
    return render_release(_release(synthesized("prod")))


def _one(objects: Iterable[Obj], kind: str, name: str | None = None) -> Obj:
    found = [o for o in objects if o["kind"] == kind
             and (name is None or o["metadata"]["name"] == name)]  # fmt: skip
    assert len(found) == 1, (kind, name, len(found))
    return found[0]


def restricted_violations(pod: Mapping[str, Any]) -> list[str]:
    """Pod Security Standards, `restricted` profile, for the fields a chart sets."""
    found = []
    pod_ctx = pod.get("securityContext") or {}
    for c in [*(pod.get("initContainers") or []), *pod["containers"]]:
        ctx = c.get("securityContext") or {}
        name = c["name"]
        if ctx.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation must be false")
        if "ALL" not in (ctx.get("capabilities") or {}).get("drop", []):
            found.append(f"{name}: capabilities must drop ALL")
        if not (ctx.get("runAsNonRoot") or pod_ctx.get("runAsNonRoot")):
            found.append(f"{name}: runAsNonRoot")
        seccomp = (ctx.get("seccompProfile") or pod_ctx.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: seccompProfile")
        if ctx.get("privileged"):
            found.append(f"{name}: privileged")
    return found


def test_the_plugin_is_loaded_from_a_pinned_image_not_downloaded(rendered: list[Obj]) -> None:
    config = _one(rendered, "ConfigMap", "argo-rollouts-config")
    (plugin,) = yaml.safe_load(config["data"]["trafficRouterPlugins"])
    assert plugin["name"] == "argoproj-labs/gatewayAPI"
    assert plugin["location"].startswith("file:///")
    assert "http" not in json.dumps(config["data"])
    pod = _one(rendered, "Deployment", "argo-rollouts")["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    assert init["image"].startswith(PLUGIN_IMAGE)
    # The file the controller loads is in the folder the init container fills, in both.
    folder = plugin["location"].removeprefix("file://").rsplit("/", 1)[0]
    controller = next(c for c in pod["containers"] if c["name"] == "argo-rollouts")
    for container in (init, controller):
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts[folder] == "gatewayapi-plugin", container["name"]
    assert folder in init["args"][0]


def test_controller_pods_meet_pod_security_restricted(
    rendered: list[Obj], synthesized: Callable[[str], Path]
) -> None:
    deployment = _one(rendered, "Deployment", "argo-rollouts")
    assert deployment["spec"]["replicas"] == 2
    assert restricted_violations(deployment["spec"]["template"]["spec"]) == []
    namespace = _one(manifests(synthesized("prod")), "Namespace", "argo-rollouts")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    _one(rendered, "PodDisruptionBudget")


def test_restricted_check_can_fail(rendered: list[Obj]) -> None:
    pod = _one(rendered, "Deployment", "argo-rollouts")["spec"]["template"]["spec"]
    pod["initContainers"][0].pop("securityContext")  # the upstream example as published
    assert restricted_violations(pod) == [
        "copy-gatewayapi-plugin: allowPrivilegeEscalation must be false",
        "copy-gatewayapi-plugin: capabilities must drop ALL",
        "copy-gatewayapi-plugin: seccompProfile",
    ]


def _api_groups(rendered: list[Obj]) -> set[str]:
    return {
        group
        for o in rendered if o["kind"] == "ClusterRole"
        for rule in o.get("rules") or []
        for group in rule.get("apiGroups", [])
    }  # fmt: skip


def test_rbac_covers_gateway_api_only_and_no_dashboard(rendered: list[Obj]) -> None:
    groups = _api_groups(rendered)
    assert "gateway.networking.k8s.io" in groups
    others = {
        "networking.istio.io", "split.smi-spec.io", "getambassador.io", "traefik.io",
        "apisix.apache.org", "projectcontour.io", "elbv2.k8s.aws", "appmesh.k8s.aws",
        "networking.gloo.solo.io",
    }  # fmt: skip
    assert groups & others == set()
    assert not [o for o in rendered if "dashboard" in o["metadata"]["name"]]


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return selector.items() <= labels.items()


def test_our_service_monitor_and_policies_select_what_the_chart_creates(
    rendered: list[Obj], synthesized: Callable[[str], Path]
) -> None:
    ours = manifests(synthesized("prod"))
    monitor = _one(ours, "ServiceMonitor", "argo-rollouts")
    service = _one(rendered, "Service", "argo-rollouts-metrics")
    assert _selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    ports = {p["name"] for p in service["spec"]["ports"]}
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports
    pod_labels = _one(rendered, "Deployment", "argo-rollouts")["spec"]["template"]["metadata"][
        "labels"
    ]
    policies = [o for o in ours if o["kind"] == "NetworkPolicy"
                and o["metadata"]["namespace"] == "argo-rollouts"]  # fmt: skip
    for policy in policies:
        selector = policy["spec"]["podSelector"].get("matchLabels", {})
        assert _selects(selector, pod_labels), policy["metadata"]["name"]
    # The check is not vacuous: a relabelled chart would no longer be selected.
    assert not _selects(monitor["spec"]["selector"]["matchLabels"], {"app": "argo-rollouts"})


def test_vendored_crds_are_the_ones_the_chart_renders(rendered: list[Obj]) -> None:
    crds = {o["metadata"]["name"]: o for o in rendered if o["kind"] == "CustomResourceDefinition"}
    folder = vendored("crds", "argo-rollouts")
    copies = {p.stem: yaml.load(p.read_text(), Loader=CrdLoader) for p in folder.glob("*.yaml")}
    assert set(copies) == set(crds)
    for name, copy in copies.items():
        assert copy["spec"] == crds[name]["spec"], name


def test_chart_defaults_would_fail_these_checks() -> None:
    """Without the project's values the chart grants every provider's RBAC and configures no
    plugin (the controller would have nothing to route with, or would download it)."""
    defaults = render(
        vendored("helm-charts", "argo-rollouts-2.41.0.tgz"),
        release="argo-rollouts",
        namespace="argo-rollouts",
    )
    assert "networking.istio.io" in _api_groups(defaults)
    assert "trafficRouterPlugins" not in (
        _one(defaults, "ConfigMap", "argo-rollouts-config").get("data") or {}
    )


def test_analysis_reaches_prometheus_only_through_its_policies(
    synthesized: Callable[[str], Path],
) -> None:
    """The AnalysisTemplates' address is the rendered Prometheus Service, and the controller's
    queries pass both namespaces' NetworkPolicies; without the monitoring side's allow they
    would not."""
    from tests.test_monitoring_deployed import deployed, flow_allowed, needed_flows

    def blocked(objects: list[Obj]) -> set[str]:
        return {
            what
            for what, src, dst, port in needed_flows(objects)
            if what.startswith("Argo Rollouts analysis")
            and not flow_allowed(objects, src, dst, port)
        }

    objects = deployed(synthesized("prod"))
    assert any(w.startswith("Argo Rollouts analysis") for w, *_ in needed_flows(objects))
    assert blocked(objects) == set()
    without = [
        o for o in objects
        if not (o["kind"] == "NetworkPolicy"
                and o["metadata"]["name"] == "allow-argo-rollouts-analysis")
    ]  # fmt: skip
    assert blocked(without) == {
        "Argo Rollouts analysis AnalysisTemplate tbcoin-prod/api-preview",
        "Argo Rollouts analysis AnalysisTemplate tbcoin-prod/inference-canary",
    }


def test_release_notifications_go_through_the_charts_configmap_and_our_secret(
    rendered: list[Obj], synthesized: Callable[[str], Path]
) -> None:
    """The controller's notification engine reads argo-rollouts-notification-configmap (from
    the chart's values) and argo-rollouts-notification-secret (the stack's, never the chart's
    values): one webhook service whose URL is a secret reference, a template per event, the
    triggers the controller fires (on-<event reason>) and our Rollouts subscribed."""
    import re

    config = _one(rendered, "ConfigMap", "argo-rollouts-notification-configmap")["data"]
    assert not [o for o in rendered if o["kind"] == "Secret"], "the chart renders no secret"
    service = yaml.safe_load(config["service.webhook.tbcoin-releases"])
    (reference,) = re.findall(r"^\$([\w-]+)$", service["url"])
    secret = next(
        m for m in manifests(synthesized("prod"))
        if m["kind"] == "Secret" and m["metadata"]["name"] == "argo-rollouts-notification-secret"
    )  # fmt: skip
    assert secret["metadata"]["namespace"] == "argo-rollouts"
    assert secret["stringData"] == {"redacted": "[secret]"}  # its value is the receiver's secret
    # …under the key the service refers to (the synth shows no key of a secret).
    from infra.config.rollouts import RolloutsController
    from infra.kubernetes.rollouts_controller import notification_secret_manifest

    controller = RolloutsController.model_validate({"gatewayPluginImage": PLUGIN_IMAGE + "1" * 64})
    assert set(notification_secret_manifest(controller, "url")["stringData"]) == {reference}
    # Argo Rollouts v1.9.0 fires on-<reason> for AnalysisRunFailed, RolloutAborted and
    # RolloutCompleted (utils/record/record.go, translateReasonToTrigger). The gate is a state
    # its notification controller watches for: a trigger named after no event.
    (subscription,) = yaml.safe_load(config["subscriptions"])
    assert subscription["recipients"] == ["tbcoin-releases"]
    assert subscription["triggers"] == [
        "on-promotion-gate", "on-analysis-run-failed", "on-rollout-aborted",
        "on-rollout-completed",
    ]  # fmt: skip
    assert subscription["selector"] == "app.kubernetes.io/part-of=tbcoin-platform"
    for trigger in subscription["triggers"]:
        (rule,) = yaml.safe_load(config[f"trigger.{trigger}"])
        (template,) = rule["send"]
        body = yaml.safe_load(config[f"template.{template}"])["webhook"]["tbcoin-releases"]
        assert body["method"] == "POST"
        # Prod's receiver is Slack's incoming webhook: a JSON message with its text once the
        # Go template actions are filled in.
        message = json.loads(re.sub(r"\{\{[^}]*\}\}", "x", body["body"]))
        assert set(message) == {"text", "channel"} and message["channel"] == "#tbcoin-alerts"
        assert "{{.rollout.metadata.name}}" in body["body"]
    # Only the gate of the pauses: a canary's timed pauses tell nobody. Event triggers have no
    # condition: with one, the notification controller sends them too (twice in make e2e).
    (gate,) = yaml.safe_load(config["trigger.on-promotion-gate"])
    assert "len(rollout.spec.strategy.canary.steps)" in gate["when"]
    assert '"BlueGreenPause"' in gate["when"] and '"CanaryPauseStep"' in gate["when"]
    for trigger in subscription["triggers"][1:]:
        assert "when" not in yaml.safe_load(config[f"trigger.{trigger}"])[0], trigger


# Rollouts as the real controller left them in make e2e (tests/test_e2e_canary.py reads them too).
RECORDED_ROLLOUTS = REPO / "tests" / "engine_outputs" / "recorded" / "rollouts"
AT_GATE = {
    "prod-api-preview",
    "prod-api-gate-after-abort",
    "prod-api-budget-overridden",
    "prod-inference-at-gate",
}


def _evaluate(condition: str, rollouts: dict[str, Any], folder: Path) -> dict[str, str]:
    """`condition` as the controller's notification engine evaluates it (its expression library,
    tools/e2e/notification-expr), for each Rollout."""
    paths = []
    for name, rollout in rollouts.items():
        paths.append(folder / f"{name}.json")
        paths[-1].write_text(json.dumps(rollout))
    tool = tool_path("NOTIFICATION_EXPR", ".tools/bin/notification-expr")
    run = subprocess.run([tool, condition, *paths], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return dict(zip(rollouts, run.stdout.split("\n"), strict=False))


def test_the_gate_notification_fires_only_at_a_gate(tmp_path: Path) -> None:
    """Under the engine's own expression library, over the Rollouts the real controller left:
    the gate condition holds at a blue-green's pause and at a canary's last step, and nowhere
    else: not for a Rollout the controller has not synced, not at an inconclusive analysis's
    pause, not at a canary's earlier pause, and not for a blue-green Rollout that is not
    paused, which the old condition announced (its mutation below)."""
    from infra.kubernetes.rollouts_controller import GATE, GATE_TRIGGER

    assert GATE_TRIGGER == "on-promotion-gate"  # named after no event the controller records
    rollouts = {p.stem: json.loads(p.read_text()) for p in RECORDED_ROLLOUTS.glob("prod-*.json")}
    rollouts = {k: v for k, v in rollouts.items() if v.get("kind") == "Rollout"}
    gate = rollouts["prod-inference-at-gate"]
    unsynced = {k: v for k, v in gate.items() if k != "status"}
    inconclusive = deepcopy(rollouts["prod-api-preview"])
    inconclusive["status"]["pauseConditions"] = [{"reason": "InconclusiveAnalysisRun"}]
    earlier = deepcopy(gate)
    earlier["status"]["currentStepIndex"] = 1
    more = {"unsynced": unsynced, "inconclusive": inconclusive, "earlier-pause": earlier}
    found = _evaluate(GATE, {**rollouts, **more}, tmp_path)
    assert set(found) >= AT_GATE
    assert {name for name, said in found.items() if said == "true"} == AT_GATE
    assert set(found.values()) == {"true", "false"}, found  # no evaluation errors
    old = (
        "rollout.spec.strategy.blueGreen != nil || "
        "rollout.status.currentStepIndex + 1 == len(rollout.spec.strategy.canary.steps)"
    )
    said = _evaluate(old, {"first-revision": rollouts["prod-api-first-revision"]}, tmp_path)
    assert said == {"first-revision": "true"}
