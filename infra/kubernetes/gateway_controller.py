"""Envoy Gateway's controller: values for its chart, its namespace, and the NetworkPolicies of
that namespace.

Pod Security: enforced at `baseline`, audited and warned at `restricted`. The controller and
certgen pods meet restricted (the chart's securityContext); the proxies are made at run time by
the controller from its own template, which this project neither renders nor checks, so
enforcing restricted could stop the entry point from starting. The audit and warnings name any
pod below restricted.
"""

from __future__ import annotations

from typing import Any

from infra.config.gateway import GatewayInstall
from infra.config.resources import HELPER
from infra.manifests.namespace import LABELS, component_namespace
from infra.manifests.network_policy import api_server_egress, dns_egress, network_policy
from infra.manifests.resources import container_resources

POD_SECURITY_ENFORCED = "baseline"
# The chart's labels on the controller's pods and on certgen's, and Envoy Gateway's on the
# proxies it creates (in its own namespace, the default deployment mode).
CONTROLLER = {"control-plane": "envoy-gateway"}
CERTGEN = {"app": "certgen"}
PROXIES = {"app.kubernetes.io/component": "proxy", "app.kubernetes.io/managed-by": "envoy-gateway"}
# The controller's ports the proxies (and the rate limiter) call: xDS, rate limit, Wasm.
XDS_PORTS = (18000, 18001, 18002)
# The topology injector's webhook, called by the API server.
WEBHOOK_PORT = 9443


def controller_values(install: GatewayInstall) -> dict[str, Any]:
    return {
        "deployment": {"envoyGateway": {"resources": container_resources(install.resources)}},
        "certgen": {"job": {"resources": container_resources(HELPER)}},
    }


def controller_namespace_manifest(install: GatewayInstall) -> dict[str, Any]:
    return component_namespace(install.namespace, POD_SECURITY_ENFORCED)


def _policy(install: GatewayInstall, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return network_policy(install.namespace, name, spec, LABELS)


def controller_network_policies(install: GatewayInstall) -> list[dict[str, Any]]:
    controller, certgen = {"matchLabels": CONTROLLER}, {"matchLabels": CERTGEN}
    return [
        _policy(install, "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        _policy(
            install,
            "controller",
            {
                "podSelector": controller,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    {
                        "from": [{"podSelector": {}}],
                        "ports": [{"protocol": "TCP", "port": p} for p in XDS_PORTS],
                    },
                    # The API server has no pod to select: the port is what can be pinned.
                    {"ports": [{"protocol": "TCP", "port": WEBHOOK_PORT}]},
                ],
                "egress": [dns_egress(), api_server_egress()],
            },
        ),
        # certgen writes the controller's certificates as Secrets, once per install or upgrade.
        _policy(
            install,
            "certgen",
            {
                "podSelector": certgen,
                "policyTypes": ["Egress"],
                "egress": [dns_egress(), api_server_egress()],
            },
        ),
        # The proxies are the entry point (from anywhere) and reach every route's backends, in
        # any namespace, on any port a route names (the backends' own policies admit them).
        _policy(
            install,
            "proxies",
            {
                "podSelector": {"matchLabels": PROXIES},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{}],
                "egress": [{}],
            },
        ),
    ]
