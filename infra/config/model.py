"""The typed shape of `tbcoin-platform:*` stack configuration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infra.config.base import DnsLabel, LabelKey, LabelValue, Model
from infra.config.errors import at


class EnvironmentConfig(Model):
    """One deployment environment: a namespace of its own on the stack's cluster."""

    namespace: DnsLabel
    tier: Literal["staging", "production"]
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)


class KubernetesConfig(Model):
    """Cluster access and workload defaults shared by every environment of the stack."""

    # kubeconfig context the explicit provider targets; None = the ambient current context.
    context: str | None = None
    replicas: int = Field(default=1, ge=1, le=50)


class StackConfig(Model):
    """Everything one stack declares; parsed once at program start."""

    environments: dict[DnsLabel, EnvironmentConfig] = Field(min_length=1)
    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig)

    @model_validator(mode="after")
    def _namespaces_unique(self) -> StackConfig:
        seen: dict[str, str] = {}
        for name, env in self.environments.items():
            if env.namespace in seen:
                raise at(
                    f"environments.{name}.namespace",
                    f"namespace '{env.namespace}' is already used by environment "
                    f"'{seen[env.namespace]}'",
                )
            seen[env.namespace] = name
        return self
