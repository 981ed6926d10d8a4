"""The Argo Rollouts controller of the cluster: values for its vendored chart, its namespace, the
ServiceMonitor that scrapes it, and the NetworkPolicies it needs.

The Gateway API traffic-router plugin is never downloaded at run time (the chart's default would
fetch it from GitHub at every start, and the controller does not start without it): an init
container copies the binary out of the plugin's image, pinned by digest, into an emptyDir the
controller loads it from (`file://`).
"""

from __future__ import annotations

from typing import Any

from infra.config.rollouts import RolloutsController
from infra.kubernetes.namespace import POD_SECURITY_LEVEL
from infra.kubernetes.strategies import GATEWAY_PLUGIN
from infra.manifests.labels import MANAGED_BY, PART_OF
from infra.manifests.network_policy import from_namespace, network_policy
from infra.monitoring.stack_values import SELECTED_LABELS

RELEASE = "argo-rollouts"
PLUGIN_DIR = "/plugins"
PLUGIN_BINARY = "rollouts-plugin-trafficrouter-gatewayapi"
METRICS_PORT = 8090
API_SERVER_PORTS = (443, 6443)
LABELS = {"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": MANAGED_BY}
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


def chart_archive(c: RolloutsController) -> str:
    return c.chart.archive


def controller_values(c: RolloutsController) -> dict[str, Any]:
    copy_plugin = {
        "name": "copy-gatewayapi-plugin",
        "image": c.gateway_plugin_image,
        "command": ["/bin/sh", "-c"],
        "args": [f"cp /bin/{PLUGIN_BINARY} {PLUGIN_DIR}/"],
        "volumeMounts": [{"name": "gatewayapi-plugin", "mountPath": PLUGIN_DIR}],
        "securityContext": _RESTRICTED,
        "resources": {
            "requests": {"cpu": "10m", "memory": "16Mi"},
            "limits": {"cpu": "100m", "memory": "64Mi"},
        },
    }
    return {
        "controller": {
            "replicas": c.replicas,
            # Leader election keeps one active; the second takes over within seconds.
            "pdb": {"enabled": True, "maxUnavailable": 1},
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "1", "memory": "512Mi"},
            },
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
    }


def controller_namespace_manifest(c: RolloutsController) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": c.namespace,
            "labels": {
                **LABELS,
                **{
                    f"pod-security.kubernetes.io/{mode}": POD_SECURITY_LEVEL
                    for mode in ("enforce", "audit", "warn")
                },
            },
        },
    }


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
    dns = {
        **from_namespace("kube-system"),
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
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
                    {"to": [dns], "ports": [{"protocol": p, "port": 53} for p in ("UDP", "TCP")]},
                    # Analysis queries.
                    {"to": [prometheus], "ports": [{"protocol": "TCP", "port": 9090}]},
                    # The API server has no pod to select; its ports are what can be pinned.
                    {"ports": [{"protocol": "TCP", "port": p} for p in API_SERVER_PORTS]},
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
