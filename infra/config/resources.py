"""CPU and memory, in one shape wherever config gives them: `{requests: {cpu, memory},
limits: {cpu, memory}}`, each a Kubernetes quantity."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import Field, model_validator

from infra.config.base import Model, Quantity, quantity_value
from infra.config.errors import at


class ResourceSpec(Model):
    cpu: Quantity = Field(description="CPU, in cores or millicores (250m).")
    memory: Quantity = Field(description="Memory, in bytes with a binary suffix (512Mi).")


class MemoryLimit(Model):
    # By default no CPU limit: a throttled Prometheus falls behind on rules and compaction.
    cpu: Quantity | None = Field(
        default=None,
        description="CPU limit; unset by default (a throttled Prometheus falls behind on rules).",
    )
    memory: Quantity = Field(description="Memory, in bytes with a binary suffix (4Gi).")


def _spec(cpu: str, memory: str, description: str) -> Any:
    """A requests or limits field with its default."""
    return Field(
        default_factory=lambda: ResourceSpec(cpu=cpu, memory=memory), description=description
    )


class _RequestsWithinLimits(Model):
    requests: ResourceSpec
    limits: ResourceSpec | MemoryLimit

    @model_validator(mode="after")
    def _within(self) -> Self:
        # The API server refuses a container whose request exceeds its limit.
        for kind in ("cpu", "memory"):
            request, limit = getattr(self.requests, kind), getattr(self.limits, kind)
            if limit is not None and quantity_value(request) > quantity_value(limit):
                raise at(f"requests.{kind}", f"{request} is above the limit {limit}")
        return self


class Resources(_RequestsWithinLimits):
    """A container's requests and limits."""

    requests: ResourceSpec = _spec(
        "250m", "256Mi", "What the scheduler reserves for each container."
    )
    limits: ResourceSpec = _spec("1", "1Gi", "The most each container may use.")


class ContainerDefaults(Resources):
    """What a container that declares no resources of its own gets (a LimitRange)."""

    RENAMED: ClassVar[dict[str, str]] = {
        "cpuRequest": "requests.cpu",
        "memoryRequest": "requests.memory",
        "cpuLimit": "limits.cpu",
        "memoryLimit": "limits.memory",
    }

    requests: ResourceSpec = _spec(
        "100m", "128Mi", "The request of a container that declares none."
    )
    limits: ResourceSpec = _spec("500m", "512Mi", "The limit of a container that declares none.")


class PrometheusResources(_RequestsWithinLimits):
    """Prometheus' requests and limits: memory limited, CPU not."""

    requests: ResourceSpec = _spec("500m", "2Gi", "What the scheduler reserves for Prometheus.")
    limits: MemoryLimit = Field(
        default_factory=lambda: MemoryLimit(memory="2Gi"),
        description="The most memory Prometheus may use (no CPU limit).",
    )
