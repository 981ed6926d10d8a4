"""One description of a release: the workloads each service is made of.

Produced once from config and read by both the Kubernetes builders (which object to declare,
with which tracks and autoscaler) and monitoring (which pods, tracks and autoscalers to watch), so
the two can never disagree about a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from infra.config.model import StackConfig
from infra.config.services import Autoscaling, BlueGreen, Canary, ServiceConfig

# The values of `tbcoin.io/track` a service's pods carry. A Rollout's pods get theirs from the
# controller (canaryMetadata/stableMetadata, activeMetadata/previewMetadata), per ReplicaSet.
TRACKS = {"rolling": ("main",), "canary": ("stable", "canary"), "blueGreen": ("active", "preview")}


@dataclass(frozen=True)
class WorkloadPlan:
    name: str
    kind: Literal["Deployment", "Rollout"]
    tracks: tuple[str, ...]
    replicas: int
    autoscaling: Autoscaling | None

    @property
    def autoscaled(self) -> bool:
        """An HPA scales it: autoscaling configured and more than one replica."""
        return self.autoscaling is not None and self.replicas > 1


@dataclass(frozen=True)
class ServiceRelease:
    name: str
    environment: str
    namespace: str
    service: ServiceConfig
    workload: WorkloadPlan

    @property
    def tracks(self) -> tuple[str, ...]:
        return self.workload.tracks


def service_release(config: StackConfig, name: str, svc: ServiceConfig) -> ServiceRelease:
    progressive = isinstance(svc.strategy, Canary | BlueGreen)
    workload = WorkloadPlan(
        name=name,
        kind="Rollout" if progressive else "Deployment",
        tracks=TRACKS[svc.strategy.type],
        replicas=config.replicas_of(svc),
        autoscaling=svc.autoscaling,
    )
    namespace = config.environments[svc.environment].namespace
    return ServiceRelease(name, svc.environment, namespace, svc, workload)


def release_plan(config: StackConfig) -> list[ServiceRelease]:
    return [service_release(config, name, svc) for name, svc in sorted(config.services.items())]
