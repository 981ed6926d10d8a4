"""Deployment environments: one namespace each, with its quota and default container limits."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infra.config.base import DnsLabel, Hostname, Integer, LabelKey, LabelValue, Model, Quantity
from infra.config.errors import at
from infra.config.resources import ContainerDefaults


class QuotaConfig(Model):
    """Namespace totals (ResourceQuota); requests may not exceed them."""

    cpu: Quantity = Field(
        "4", description="CPU the environment's containers may request and be limited to in total."
    )
    memory: Quantity = Field(
        "8Gi",
        description="Memory the environment's containers may request and be limited to in total.",
    )
    pods: Integer = Field(default=30, ge=1, le=1000, description="Pods the environment may run.")


class EnvironmentConfig(Model):
    """One deployment environment: a namespace of its own on the stack's cluster."""

    namespace: DnsLabel = Field(description="The namespace the environment's objects live in.")
    tier: Literal["staging", "production"] = Field(
        description="What the environment is; production has policies of its own."
    )
    hostname: Hostname | None = Field(
        None,
        description="The host name the environment's Gateway listens for; required once "
        "services are declared.",
    )
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Labels put on the environment's namespace."
    )
    quota: QuotaConfig = Field(
        default_factory=QuotaConfig,
        description="The namespace's totals (a ResourceQuota); requests may not exceed them.",
    )
    container_defaults: ContainerDefaults = Field(
        default_factory=ContainerDefaults,
        description="Requests and limits of a container that declares none (a LimitRange).",
    )

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
