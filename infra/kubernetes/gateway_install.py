"""Envoy Gateway from its pinned Helm chart, and the GatewayClass that names it."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.config.gateway import GatewayConfig, GatewayInstall
from infra.kubernetes.gateway import gateway_class_manifest
from infra.manifests.apply import apply_manifest


class GatewayController(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        gateway: GatewayConfig,
        install: GatewayInstall,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("tbcoin:kubernetes:GatewayController", name, None, opts)
        release = k8s.helm.v3.Release(
            name,
            name=name,
            chart=install.chart.release_chart,
            version=install.chart.version,
            namespace=install.namespace,
            create_namespace=True,
            atomic=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.gateway_class = apply_manifest(
            gateway_class_manifest(gateway.class_name),
            pulumi.ResourceOptions(parent=self, depends_on=[release]),
        )
        self.register_outputs({"className": gateway.class_name})
