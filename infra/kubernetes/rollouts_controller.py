"""The Argo Rollouts controller of the cluster: values for its vendored chart, its namespace, the
ServiceMonitor that scrapes it, and the NetworkPolicies it needs.

The Gateway API traffic-router plugin is never downloaded at run time (the chart's default would
fetch it from GitHub at every start, and the controller does not start without it): an init
container copies the binary out of the plugin's image, pinned by digest, into an emptyDir the
controller loads it from (`file://`).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from infra.config.monitoring import Receiver
from infra.config.resources import HELPER
from infra.config.rollouts import RolloutsController
from infra.kubernetes.namespace import POD_SECURITY_LEVEL
from infra.kubernetes.strategies import GATEWAY_PLUGIN
from infra.manifests.labels import PART_OF
from infra.manifests.namespace import LABELS, component_namespace
from infra.manifests.network_policy import (
    api_server_egress,
    dns_egress,
    from_namespace,
    network_policy,
)
from infra.manifests.resources import container_resources as sized
from infra.monitoring.stack_values import SELECTED_LABELS

RELEASE = "argo-rollouts"
PLUGIN_DIR = "/plugins"
PLUGIN_BINARY = "rollouts-plugin-trafficrouter-gatewayapi"
METRICS_PORT = 8090
# The chart's labels on the controller's pods and metrics Service (release `argo-rollouts`).
CONTROLLER_SELECTOR = {
    "app.kubernetes.io/component": "rollouts-controller",
    "app.kubernetes.io/name": "argo-rollouts",
    "app.kubernetes.io/instance": RELEASE,
}
# kube-prometheus-stack's Prometheus pods.
PROMETHEUS_SELECTOR = {"app.kubernetes.io/name": "prometheus"}
# Only Gateway API routes: every other provider's RBAC is off.
PROVIDERS = [
    "istio",
    "smi",
    "ambassador",
    "awsLoadBalancerController",
    "awsAppMesh",
    "traefik",
    "apisix",
    "contour",
    "glooPlatform",
]

_RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


# Release notifications, through the controller's notification engine (notifications-engine):
# the chart renders argo-rollouts-notification-configmap from these values; the controller reads
# the receiver's URL from this Secret (its fixed name), which the stack creates, never the chart.
NOTIFICATION_SECRET = "argo-rollouts-notification-secret"
NOTIFIER = "tbcoin-releases"  # the engine's webhook service
NOTIFIER_URL_KEY = "releases-url"  # the Secret's key, `$releases-url` in the service
_WHO = "{{.rollout.metadata.namespace}}/{{.rollout.metadata.name}}"
_REVISION = '{{index .rollout.metadata.annotations "rollout.argoproj.io/revision"}}'
_CLI = "`infractl rollout {action} --stack {stack} --service {{.rollout.metadata.name}}`"
# The controller sends a trigger named after an event it records (on-<event reason>) when it
# records it. Its notification controller also evaluates every subscribed trigger that has a
# condition against each Rollout it sees, and sends when the condition turns true. A gate
# trigger named on-rollout-paused therefore went out twice, and a condition that was not about
# the pause (`blueGreen != nil`) also fired for a blue-green Rollout that was not paused at all
# (both seen in make e2e on v1.9.0). So the gate is a state, not an event: the trigger is named
# after no event, and its condition holds only while the Rollout waits at its gate (a canary's
# last step, a blue-green's pause). `status` is checked first: an unsynced Rollout has none.
GATE_TRIGGER = "on-promotion-gate"
_PAUSED = "rollout.status != nil && rollout.status.pauseConditions != nil && any("
GATE = (
    f'{_PAUSED}rollout.status.pauseConditions, {{.reason == "BlueGreenPause"}}) || '
    f'{_PAUSED}rollout.status.pauseConditions, {{.reason == "CanaryPauseStep"}}) && '
    "rollout.status.currentStepIndex + 1 == len(rollout.spec.strategy.canary.steps)"
)
# event name -> (trigger, condition or None, message)
NOTIFIED = {
    "gate": (
        GATE_TRIGGER,
        GATE,
        f"Release of {_WHO} (revision {_REVISION}) waits at its promotion gate: "
        + _CLI.replace("{action}", "promote")
        + " to go on, or abort it.",
    ),
    "analysis-failed": (
        "on-analysis-run-failed",
        None,
        f"An analysis of {_WHO} failed: the controller aborts the release. See "
        + _CLI.replace("{action}", "status")
        + ".",
    ),
    "aborted": (
        "on-rollout-aborted",
        None,
        f"Release of {_WHO} aborted: traffic is back on the stable version. See "
        + _CLI.replace("{action}", "status")
        + ".",
    ),
    "completed": (
        "on-rollout-completed",
        None,
        f"Release of {_WHO} (revision {_REVISION}) completed: all traffic is on it.",
    ),
}


def _body(event: str, message: str, receiver: Receiver, stack: str) -> str:
    """The JSON the webhook service posts: Slack's incoming-webhook message, or ours."""
    if receiver.type == "slack":
        body: dict[str, str] = {"text": message}
        if receiver.channel:
            body["channel"] = receiver.channel
    else:
        body = {
            "event": event,
            "stack": stack,
            "namespace": "{{.rollout.metadata.namespace}}",
            "rollout": "{{.rollout.metadata.name}}",
            "revision": _REVISION,
            "text": message,
        }
    # The template's own quotes (index … "…") are Go template syntax, gone once rendered: they
    # must reach the engine unescaped.
    return json.dumps(body, ensure_ascii=False).replace(json.dumps(_REVISION)[1:-1], _REVISION)


def notification_values(receiver: Receiver, stack: str) -> dict[str, Any]:
    """The chart's `notifications` values: one webhook service, a template and a trigger per
    event, and a subscription of this project's Rollouts to them."""
    templates, triggers = {}, {}
    for event, (trigger, condition, message) in NOTIFIED.items():
        text = message.replace("{stack}", stack)
        templates[f"template.release-{event}"] = yaml.safe_dump(
            {
                "webhook": {
                    NOTIFIER: {"method": "POST", "body": _body(event, text, receiver, stack)}
                }
            },
            width=1000,
        )
        rule: dict[str, Any] = {"send": [f"release-{event}"]}
        if condition:
            rule["when"] = condition
        triggers[f"trigger.{trigger}"] = yaml.safe_dump([rule], width=1000)
    service = {
        "url": f"${NOTIFIER_URL_KEY}",
        "headers": [{"name": "Content-Type", "value": "application/json"}],
    }
    return {
        "configmap": {"create": True},
        "secret": {"create": False},
        "notifiers": {f"service.webhook.{NOTIFIER}": yaml.safe_dump(service)},
        "templates": templates,
        "triggers": triggers,
        "subscriptions": [
            {
                "recipients": [NOTIFIER],
                "triggers": [trigger for trigger, _, _ in NOTIFIED.values()],
                # Only this project's Rollouts (their labels), not every object's events.
                "selector": f"app.kubernetes.io/part-of={PART_OF}",
            }
        ],
    }


def notification_secret_manifest(c: RolloutsController, url: Any) -> dict[str, Any]:
    """The receiver's URL where the engine reads it (`url` is the resolved secret)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": NOTIFICATION_SECRET,
            "namespace": c.namespace,
            "labels": {**LABELS, "app.kubernetes.io/component": "rollouts-controller"},
        },
        "type": "Opaque",
        "stringData": {NOTIFIER_URL_KEY: url},
    }


def chart_archive(c: RolloutsController) -> str:
    return c.chart.archive


def controller_values(
    c: RolloutsController, notify: Receiver | None = None, stack: str = ""
) -> dict[str, Any]:
    copy_plugin = {
        "name": "copy-gatewayapi-plugin",
        "image": c.gateway_plugin_image,
        "command": ["/bin/sh", "-c"],
        "args": [f"cp /bin/{PLUGIN_BINARY} {PLUGIN_DIR}/"],
        "volumeMounts": [{"name": "gatewayapi-plugin", "mountPath": PLUGIN_DIR}],
        "securityContext": _RESTRICTED,
        "resources": sized(HELPER),
    }
    return {
        "controller": {
            "replicas": c.replicas,
            # Leader election keeps one active; the second takes over within seconds.
            "pdb": {"enabled": True, "maxUnavailable": 1},
            "resources": sized(c.resources),
            "initContainers": [copy_plugin],
            "trafficRouterPlugins": [
                {"name": GATEWAY_PLUGIN, "location": f"file://{PLUGIN_DIR}/{PLUGIN_BINARY}"}
            ],
            "volumes": [{"name": "gatewayapi-plugin", "emptyDir": {"sizeLimit": "128Mi"}}],
            "volumeMounts": [{"name": "gatewayapi-plugin", "mountPath": PLUGIN_DIR}],
            # The metrics Service only: the ServiceMonitor is ours (labelled for our Prometheus).
            "metrics": {"enabled": True, "serviceMonitor": {"enabled": False}},
        },
        "providerRBAC": {
            "enabled": True,
            "providers": {**dict.fromkeys(PROVIDERS, False), "gatewayAPI": True},
        },
        "dashboard": {"enabled": False},
        # Without a receiver, the chart's empty ConfigMap: the engine has nothing to send.
        **({"notifications": notification_values(notify, stack)} if notify else {}),
    }


def controller_namespace_manifest(c: RolloutsController) -> dict[str, Any]:
    return component_namespace(c.namespace, POD_SECURITY_LEVEL)


def controller_service_monitor(c: RolloutsController) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        # The label kube-prometheus-stack's Prometheus selects monitors by.
        "metadata": {
            "name": RELEASE,
            "namespace": c.namespace,
            "labels": {**LABELS, **SELECTED_LABELS},
        },
        "spec": {
            "selector": {"matchLabels": CONTROLLER_SELECTOR},
            "namespaceSelector": {"matchNames": [c.namespace]},
            # `namespace` on rollout_info is the Rollout's, not the controller's: keep it.
            "endpoints": [{"port": "metrics", "interval": "30s", "honorLabels": True}],
        },
    }


def _policy(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return network_policy(namespace, name, spec, LABELS)


def controller_network_policies(c: RolloutsController, monitoring: str) -> list[dict[str, Any]]:
    controller = {"matchLabels": CONTROLLER_SELECTOR}
    prometheus = {**from_namespace(monitoring), "podSelector": {"matchLabels": PROMETHEUS_SELECTOR}}
    return [
        _policy(
            c.namespace, "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        ),
        _policy(
            c.namespace,
            "controller-egress",
            {
                "podSelector": controller,
                "policyTypes": ["Egress"],
                "egress": [
                    dns_egress(),
                    # Analysis queries.
                    {"to": [prometheus], "ports": [{"protocol": "TCP", "port": 9090}]},
                    api_server_egress(),
                ],
            },
        ),
        _policy(
            c.namespace,
            "allow-metrics-scrape",
            {
                "podSelector": controller,
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [prometheus], "ports": [{"protocol": "TCP", "port": METRICS_PORT}]}
                ],
            },
        ),
        # The monitoring namespace admits only itself by default: let the controller query.
        _policy(
            monitoring,
            "allow-argo-rollouts-analysis",
            {
                "podSelector": {"matchLabels": PROMETHEUS_SELECTOR},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{**from_namespace(c.namespace), "podSelector": controller}],
                        "ports": [{"protocol": "TCP", "port": 9090}],
                    }
                ],
            },
        ),
    ]
