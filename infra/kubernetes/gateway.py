"""Gateway API objects: the environment's Gateway and each service's HTTPRoute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.manifests.labels import common_labels

GATEWAY_API = "gateway.networking.k8s.io/v1"
GATEWAY_NAME = "tbcoin"
SERVICE_PORT = 80
ENVOY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"


def gateway_class_manifest(class_name: str) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "GatewayClass",
        "metadata": {"name": class_name},
        "spec": {"controllerName": ENVOY_CONTROLLER},
    }


def gateway_manifest(
    env_name: str, namespace: str, class_name: str, hostname: str, port: int
) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": {
            "name": GATEWAY_NAME,
            "namespace": namespace,
            "labels": common_labels(env_name),
        },
        "spec": {
            "gatewayClassName": class_name,
            "listeners": [
                {
                    "name": "http",
                    "protocol": "HTTP",
                    "port": port,
                    "hostname": hostname,
                    "allowedRoutes": {"namespaces": {"from": "Same"}},
                }
            ],
        },
    }


@dataclass(frozen=True)
class Backend:
    service: str
    weight: int | None = None

    def ref(self) -> dict[str, Any]:
        ref: dict[str, Any] = {"name": self.service, "port": SERVICE_PORT}
        if self.weight is not None:
            ref["weight"] = self.weight
        return ref


def route_rule(path_prefix: str, backends: list[Backend]) -> dict[str, Any]:
    match = {"path": {"type": "PathPrefix", "value": path_prefix}}
    return {"matches": [match], "backendRefs": [b.ref() for b in backends]}


def http_route_manifest(
    env_name: str,
    namespace: str,
    name: str,
    hostname: str,
    rules: list[dict[str, Any]],
    labels: dict[str, str],
) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**labels, **common_labels(env_name)},
        },
        "spec": {
            "parentRefs": [{"name": GATEWAY_NAME, "sectionName": "http"}],
            "hostnames": [hostname],
            "rules": rules,
        },
    }
