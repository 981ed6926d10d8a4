"""What monitoring needs to know about one service: where it runs and which workloads it has."""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.model import StackConfig
from infra.config.services import BlueGreen, Canary, ServiceConfig


def deployment_name(service: str, track: str) -> str:
    """Same naming as the workload builder: `api` (rolling) or `api-blue`, `api-canary`…"""
    return service if track == "main" else f"{service}-{track}"


def tracks_of(service: ServiceConfig) -> list[str]:
    if isinstance(service.strategy, BlueGreen):
        return ["blue", "green"]
    if isinstance(service.strategy, Canary):
        return ["stable", "canary"]
    return ["main"]


@dataclass(frozen=True)
class MonitoredService:
    name: str
    namespace: str
    environment: str
    tracks: tuple[str, ...]
    autoscaled: tuple[str, ...]  # names of the Deployments an HPA scales

    @property
    def canary(self) -> bool:
        return "canary" in self.tracks

    @property
    def deployments(self) -> tuple[str, ...]:
        return tuple(deployment_name(self.name, t) for t in self.tracks)

    @property
    def pod_regex(self) -> str:
        """Pods of this service's Deployments: `<deployment>-<replicaset hash>-<pod suffix>`."""
        return f"({'|'.join(self.deployments)})-[a-z0-9]+-[a-z0-9]+"

    @property
    def deployment_regex(self) -> str:
        return "|".join(self.deployments)


def monitored_services(config: StackConfig) -> list[MonitoredService]:
    found = []
    for name, svc in sorted(config.services.items()):
        tracks = tracks_of(svc)
        replicas = config.replicas_of(svc)
        # The workload builder gives every track but the canary an HPA when autoscaled with
        # more than one replica; a blue-green idle color scaled down has none.
        scaled: list[str] = []
        if svc.autoscaling is not None and replicas > 1:
            scaled = [t for t in tracks if t != "canary"]
            if isinstance(svc.strategy, BlueGreen) and svc.strategy.idle_replicas != replicas:
                scaled = [svc.strategy.active_color]
        found.append(
            MonitoredService(
                name=name,
                namespace=config.environments[svc.environment].namespace,
                environment=svc.environment,
                tracks=tuple(tracks),
                autoscaled=tuple(deployment_name(name, t) for t in scaled),
            )
        )
    return found
