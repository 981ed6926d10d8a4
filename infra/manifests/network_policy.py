"""The shape of a NetworkPolicy and the names its rules refer to."""

from __future__ import annotations

from typing import Any

NAMESPACE_NAME = "kubernetes.io/metadata.name"
# The named container port every app pod serves on (and is scraped on).
APP_PORT_NAME = "http"


def network_policy(
    namespace: str, name: str, spec: dict[str, Any], labels: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    }


def from_namespace(namespace: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: namespace}}}


# The API server has no pod to select; its ports are what can be pinned.
API_SERVER_PORTS = (443, 6443)
DNS_PODS = {"k8s-app": "kube-dns"}


def dns_egress() -> dict[str, Any]:
    """An egress rule to the cluster's DNS (kube-dns, or CoreDNS under that label)."""
    return {
        "to": [
            {
                **from_namespace("kube-system"),
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }


def api_server_egress() -> dict[str, Any]:
    return {"ports": [{"protocol": "TCP", "port": p} for p in API_SERVER_PORTS]}
