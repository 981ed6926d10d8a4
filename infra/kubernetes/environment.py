"""One environment's Kubernetes footprint, as a component: namespace, guard rails, Gateway."""

from __future__ import annotations

from typing import Any

import pulumi

from infra.config.environments import EnvironmentConfig
from infra.config.gateway import GatewayConfig
from infra.kubernetes.gateway import gateway_manifest
from infra.kubernetes.namespace import namespace_manifest
from infra.kubernetes.network_policies import network_policy_manifests
from infra.kubernetes.quota import limit_range_manifest, resource_quota_manifest
from infra.manifests.apply import apply_manifest


def environment_manifests(
    name: str,
    env: EnvironmentConfig,
    app: str,
    gateway: GatewayConfig | None,
    monitoring_namespace: str,
) -> list[dict[str, Any]]:
    """Everything inside the namespace (the namespace itself is registered first)."""
    manifests = [
        resource_quota_manifest(name, env),
        limit_range_manifest(name, env),
        *network_policy_manifests(
            name,
            env.namespace,
            app,
            gateway.data_plane_namespace if gateway else "kube-system",
            monitoring_namespace,
        ),
    ]
    if gateway is not None and env.hostname is not None:
        manifests.append(
            gateway_manifest(name, env.namespace, gateway.class_name, env.hostname, gateway.port)
        )
    return manifests


class Environment(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        env: EnvironmentConfig,
        app: str,
        gateway: GatewayConfig | None,
        monitoring_namespace: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("tbcoin:kubernetes:Environment", name, None, opts)
        self.namespace = apply_manifest(
            namespace_manifest(name, env), pulumi.ResourceOptions(parent=self)
        )
        inside = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        for manifest in environment_manifests(name, env, app, gateway, monitoring_namespace):
            apply_manifest(manifest, inside)
        self.register_outputs({"namespace": env.namespace})
