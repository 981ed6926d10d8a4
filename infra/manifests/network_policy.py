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
