"""What monitoring needs to know about one service, read from the release plan."""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.model import StackConfig
from infra.release import CANARY, DEPLOYMENT, ServiceRelease, release_plan


@dataclass(frozen=True)
class MonitoredService:
    name: str
    namespace: str
    environment: str
    tracks: tuple[str, ...]
    workload: str  # the Deployment or Rollout whose pods serve it
    kind: str  # Deployment or Rollout
    autoscaled: tuple[str, ...]  # names of the workloads an HPA scales

    @classmethod
    def of(cls, release: ServiceRelease) -> MonitoredService:
        w = release.workload
        return cls(
            name=release.name,
            namespace=release.namespace,
            environment=release.environment,
            tracks=w.tracks,
            workload=w.name,
            kind=w.kind,
            autoscaled=(w.name,) if w.autoscaled else (),
        )

    @property
    def canary(self) -> bool:
        return CANARY in self.tracks

    @property
    def deployments(self) -> tuple[str, ...]:
        """kube-state-metrics reports Deployments only; a Rollout's state comes from its
        controller's metrics."""
        return (self.workload,) if self.kind == DEPLOYMENT else ()

    @property
    def pod_regex(self) -> str:
        """Pods of the workload: `<workload>-<replicaset hash>-<pod suffix>`."""
        return f"{self.workload}-[a-z0-9]+-[a-z0-9]+"

    @property
    def deployment_regex(self) -> str:
        return "|".join(self.deployments)


def monitored_services(config: StackConfig) -> list[MonitoredService]:
    return [MonitoredService.of(release) for release in release_plan(config)]
