"""One description of a release: the workloads each service is made of.

Produced once from config and read by both the Kubernetes builders (which object to declare,
with which tracks and autoscaler) and monitoring (which pods, tracks and autoscalers to watch), so
the two can never disagree about a name.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.model import StackConfig

# Each strategy's workload kind is stated on it (infra/config/services.py); re-exported for the
# builders, which read kinds from here.
from infra.config.services import DEPLOYMENT as DEPLOYMENT
from infra.config.services import ROLLOUT as ROLLOUT
from infra.config.services import Autoscaling, Kind, ServiceConfig

# The values of `tbcoin.io/track` a service's pods carry. A Rollout's pods get theirs from the
# controller (canaryMetadata/stableMetadata, activeMetadata/previewMetadata), per ReplicaSet.
MAIN, STABLE, CANARY, ACTIVE, PREVIEW = "main", "stable", "canary", "active", "preview"
TRACKS = {"rolling": (MAIN,), "canary": (STABLE, CANARY), "blueGreen": (ACTIVE, PREVIEW)}
# The Service that selects each track's pods is `<workload><suffix>`; the active one is the
# workload's own name, so a blue-green service keeps the name a rolling one has.
SERVICE_SUFFIXES = {MAIN: "", ACTIVE: "", PREVIEW: "-preview", STABLE: "-stable", CANARY: "-canary"}


@dataclass(frozen=True)
class WorkloadPlan:
    name: str
    kind: Kind
    tracks: tuple[str, ...]
    replicas: int
    autoscaling: Autoscaling | None

    def service_name(self, track: str) -> str:
        """The Service that routes to one track's pods."""
        return f"{self.name}{SERVICE_SUFFIXES[track]}"

    @property
    def metrics_service(self) -> str:
        """A Rollout's headless Service over all its pods, for the ServiceMonitor."""
        return f"{self.name}-metrics"

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
    workload = WorkloadPlan(
        name=name,
        kind=svc.strategy.KIND,
        tracks=TRACKS[svc.strategy.type],
        replicas=config.replicas_of(svc),
        autoscaling=svc.autoscaling,
    )
    namespace = config.environments[svc.environment].namespace
    return ServiceRelease(name, svc.environment, namespace, svc, workload)


def release_plan(config: StackConfig) -> list[ServiceRelease]:
    return [service_release(config, name, svc) for name, svc in sorted(config.services.items())]
