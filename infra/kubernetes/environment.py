"""One environment's Kubernetes footprint, as a component."""

from __future__ import annotations

import pulumi

from infra.config.model import EnvironmentConfig
from infra.kubernetes.apply import apply_manifest
from infra.kubernetes.namespace import namespace_manifest


class Environment(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        env: EnvironmentConfig,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("tbcoin:kubernetes:Environment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.namespace = apply_manifest(namespace_manifest(name, env), child)
        self.register_outputs({"namespace": env.namespace})
