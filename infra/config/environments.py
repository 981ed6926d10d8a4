"""Deployment environments: one namespace each, with its quota and default container limits."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infra.config.base import (
    DnsLabel,
    Hostname,
    LabelKey,
    LabelValue,
    Model,
    Quantity,
    quantity_value,
)
from infra.config.errors import at


class QuotaConfig(Model):
    """Namespace totals (ResourceQuota); requests may not exceed them."""

    cpu: Quantity = "4"
    memory: Quantity = "8Gi"
    pods: int = Field(default=30, ge=1, le=1000)


class ContainerDefaults(Model):
    """LimitRange defaults for containers that do not declare their own."""

    cpu_request: Quantity = "100m"
    memory_request: Quantity = "128Mi"
    cpu_limit: Quantity = "500m"
    memory_limit: Quantity = "512Mi"

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ContainerDefaults:
        for kind in ("cpu", "memory"):
            request, limit = getattr(self, f"{kind}_request"), getattr(self, f"{kind}_limit")
            if quantity_value(request) > quantity_value(limit):
                raise at(f"{kind}Request", f"{request} is above {kind}Limit {limit}")
        return self


class EnvironmentConfig(Model):
    """One deployment environment: a namespace of its own on the stack's cluster."""

    namespace: DnsLabel
    tier: Literal["staging", "production"]
    # Host name the environment's Gateway listens for; required once services are declared.
    hostname: Hostname | None = None
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    quota: QuotaConfig = Field(default_factory=QuotaConfig)
    container_defaults: ContainerDefaults = Field(default_factory=ContainerDefaults)

    @model_validator(mode="after")
    def _pod_security_is_the_programs(self) -> EnvironmentConfig:
        # The program sets the level (restricted) and leaves the version at `latest`; a label
        # here such as `enforce-version: v1.20` would judge pods by an old, weaker standard.
        for key in self.labels:
            if key.startswith("pod-security.kubernetes.io/"):
                raise at(
                    f"labels.{key}",
                    "Pod Security admission labels are set by the program (restricted, at the "
                    "latest version); remove this label",
                )
        return self
