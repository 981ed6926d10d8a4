"""The monitoring namespace and its NetworkPolicies.

node-exporter needs the host's network, PID namespace and filesystem, which only Pod Security
`privileged` admits; audit and warn stay at `restricted` so anything else stands out.
"""

from __future__ import annotations

from typing import Any

from infra.manifests.namespace import LABELS, component_namespace


def monitoring_namespace_manifest(name: str) -> dict[str, Any]:
    return component_namespace(name, "privileged")


def _policy(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": LABELS},
        "spec": spec,
    }


def monitoring_network_policies(namespace: str) -> list[dict[str, Any]]:
    return [
        _policy(
            namespace, "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        ),
        # Components talk to each other (Grafana -> Prometheus -> Alertmanager, Alloy -> Loki).
        _policy(
            namespace,
            "allow-same-namespace",
            {
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
            },
        ),
        # Prometheus scrapes every namespace and the API server; Alertmanager calls receivers.
        _policy(
            namespace,
            "allow-egress",
            {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]},
        ),
        # The API server calls the operator's admission webhook.
        _policy(
            namespace,
            "allow-operator-webhook",
            {
                "podSelector": {"matchLabels": {"app": "kube-prometheus-stack-operator"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"ports": [{"protocol": "TCP", "port": 10250}]}],
            },
        ),
    ]
