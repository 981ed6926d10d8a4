"""NetworkPolicies of an environment: deny by default, then admit exactly what the app needs."""

from __future__ import annotations

from typing import Any

from infra.manifests.labels import NAME, common_labels
from infra.manifests.network_policy import (
    APP_PORT_NAME,
    dns_egress,
    from_namespace,
    network_policy,
)


def _policy(env_name: str, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return network_policy(namespace, name, spec, common_labels(env_name))


def network_policy_manifests(
    env_name: str,
    namespace: str,
    app: str,
    gateway_namespace: str,
    monitoring_namespace: str,
) -> list[dict[str, Any]]:
    app_pods = {"matchLabels": {NAME: app}}
    app_port = [{"protocol": "TCP", "port": APP_PORT_NAME}]
    return [
        _policy(
            env_name,
            namespace,
            "default-deny",
            {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        ),
        _policy(
            env_name,
            namespace,
            "allow-dns-egress",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [dns_egress()],
            },
        ),
        _policy(
            env_name,
            namespace,
            "allow-gateway-ingress",
            {
                "podSelector": app_pods,
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [from_namespace(gateway_namespace)], "ports": app_port}],
            },
        ),
        _policy(
            env_name,
            namespace,
            "allow-prometheus-scrape",
            {
                "podSelector": app_pods,
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [from_namespace(monitoring_namespace)], "ports": app_port}],
            },
        ),
    ]
