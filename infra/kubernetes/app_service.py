"""One service of the app in one environment, released by its configured strategy."""

from __future__ import annotations

import pulumi

from infra.config.services import ServiceConfig
from infra.kubernetes.apply import apply_manifest
from infra.kubernetes.strategies import ServiceContext, release_manifests


class AppService(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        service: ServiceConfig,
        context: ServiceContext,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "tbcoin:kubernetes:AppService", f"{context.environment}-{name}", None, opts
        )
        child = pulumi.ResourceOptions(parent=self)
        for manifest in release_manifests(name, service, context):
            apply_manifest(manifest, child)
        self.register_outputs({"strategy": service.strategy.type})
