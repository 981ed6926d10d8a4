"""One service of the app in one environment, released by its configured strategy."""

from __future__ import annotations

import pulumi

from infra.kubernetes.strategies import ServiceContext, release_manifests
from infra.manifests.apply import apply_manifest
from infra.release import ServiceRelease


class AppService(pulumi.ComponentResource):
    def __init__(
        self,
        release: ServiceRelease,
        context: ServiceContext,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "tbcoin:kubernetes:AppService", f"{release.environment}-{release.name}", None, opts
        )
        for item in release_manifests(release, context):
            # Fields a controller owns (route weights, Service selectors) are left to it.
            child = pulumi.ResourceOptions(parent=self, ignore_changes=list(item.ignore_changes))
            apply_manifest(item.manifest, child)
        self.register_outputs({"strategy": release.service.strategy.type})
