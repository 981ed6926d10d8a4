"""The typed shape of `tbcoin-platform:*` stack configuration."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from infra.config.app import BUILD, AppConfig, is_tag
from infra.config.base import (
    DnsLabel,
    Integer,
    Model,
    SecretName,
    pattern,
    percent,
    quantity_value,
)
from infra.config.drift import DriftConfig
from infra.config.environments import EnvironmentConfig
from infra.config.errors import ConfigProblem
from infra.config.gateway import GatewayConfig, route_key
from infra.config.github import GitHubConfig
from infra.config.monitoring import MonitoringConfig, Thresholds
from infra.config.rollouts import RolloutsController
from infra.config.secrets import SecretRef
from infra.config.services import ROLLOUT, BlueGreen, Canary, ServiceConfig


class KubernetesConfig(Model):
    """Cluster access and workload defaults shared by every environment of the stack."""

    context: (
        Annotated[str, pattern(r"^[A-Za-z0-9._:@/-]{1,253}$", "a kubeconfig context name")] | None
    ) = Field(
        None,
        description="The kubeconfig context the stack deploys to (unset: the current context).",
    )
    replicas: Integer = Field(
        default=1, ge=1, le=50, description="Replicas of a service that gives none of its own."
    )


# Namespaces the cluster itself runs in (kube-dns, the control plane) or puts objects in by default.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
SHARED_GATEWAY_KEYS = {"gateway.dataPlaneNamespace", "gateway.install.namespace"}


def image_refs(service: ServiceConfig) -> dict[str, str]:
    """Every image a service's strategy names, keyed by its config key."""
    return {"image": service.strategy.image}


def _default(model: type[Model], field: str) -> str:
    return str(model.model_fields[field].default)


class StackConfig(Model):
    """Everything one stack declares; parsed once at program start."""

    environments: dict[DnsLabel, EnvironmentConfig] = Field(
        min_length=1, description="The stack's deployment environments, each a namespace."
    )
    kubernetes: KubernetesConfig = Field(
        default_factory=KubernetesConfig,
        description="The cluster the stack deploys to, and its workload defaults.",
    )
    app: AppConfig | None = Field(
        None, description="The application image and the HTTP contract its services share."
    )
    gateway: GatewayConfig | None = Field(
        None, description="The Gateway API entry point of each environment."
    )
    services: dict[DnsLabel, ServiceConfig] = Field(
        default_factory=dict, description="The app's services and how each is released."
    )
    github: GitHubConfig | None = Field(
        None, description="The GitHub repositories this stack governs, and how."
    )
    monitoring: MonitoringConfig | None = Field(
        None, description="Prometheus, Alertmanager, Grafana and Loki of the stack."
    )
    rollouts: RolloutsController | None = Field(
        None,
        description="The Argo Rollouts controller; required once a service is released "
        "blueGreen or canary.",
    )
    drift: DriftConfig = Field(
        default_factory=DriftConfig, description="What the Drift workflow may put back."
    )
    secrets: dict[SecretName, str] = Field(
        default_factory=dict,
        description="Encrypted values only, set with `pulumi config set --secret --path "
        "'tbcoin-platform:secrets.<name>'`; a secret reference names one by fromSecret.",
    )

    # The app's and monitoring's settings, at their defaults when the stack leaves the section out.
    @property
    def app_name(self) -> str:
        return self.app.name if self.app else _default(AppConfig, "name")

    @property
    def metrics_path(self) -> str:
        return self.app.metrics_path if self.app else _default(AppConfig, "metrics_path")

    @property
    def monitoring_namespace(self) -> str:
        return (
            self.monitoring.namespace
            if self.monitoring
            else _default(MonitoringConfig, "namespace")
        )

    @property
    def thresholds(self) -> Thresholds:
        return self.monitoring.thresholds if self.monitoring else Thresholds()

    def replicas_of(self, service: ServiceConfig) -> int:
        return service.replicas or self.kubernetes.replicas

    def secret_refs(self) -> dict[str, SecretRef]:
        refs: dict[str, SecretRef] = {}
        if self.app and self.app.build:
            refs["app.build.registry.password"] = self.app.build.registry.password
        if self.monitoring:
            refs["monitoring.grafanaAdmin"] = self.monitoring.grafana_admin
            for i, receiver in enumerate(self.monitoring.alerting.receivers):
                refs[f"monitoring.alerting.receivers[{i}].secret"] = receiver.secret
        return refs

    def problems(self) -> list[ConfigProblem]:
        """Checks across sections, run after every section validated on its own."""
        problems = [
            *self._namespace_problems(),
            *self._hostname_problems(),
            *self._service_problems(),
            *self._quota_problems(),
        ]
        problems += self._alert_route_problems()
        if self.github is not None:
            problems += self.github.problems()
        problems += [
            ConfigProblem(
                f"{path}.fromSecret", f"no key {ref.from_secret!r} in tbcoin-platform:secrets"
            )
            for path, ref in self.secret_refs().items()
            if ref.from_secret is not None and ref.from_secret not in self.secrets
        ]
        return problems

    def namespaces(self) -> dict[str, str]:
        """Every namespace the stack declares objects in, by the key that names it."""
        keys = {
            f"environments.{name}.namespace": e.namespace for name, e in self.environments.items()
        }
        if self.monitoring is not None:
            keys["monitoring.namespace"] = self.monitoring.namespace
        if self.rollouts is not None:
            keys["rollouts.namespace"] = self.rollouts.namespace
        if self.gateway is not None:
            keys["gateway.dataPlaneNamespace"] = self.gateway.data_plane_namespace
            if self.gateway.install is not None:
                keys["gateway.install.namespace"] = self.gateway.install.namespace
        return keys

    def _namespace_problems(self) -> list[ConfigProblem]:
        """One rule for what a namespace may be: never a system namespace, and never one that
        another key already claims (each role brings its own Pod Security level and default-deny
        NetworkPolicies, which would render two objects to one file and fight on every `up`).
        Envoy Gateway's controller and its proxies may share one namespace: that is the chart's
        own default."""
        problems = []
        owner: dict[str, str] = {}
        for key, namespace in self.namespaces().items():
            if namespace in SYSTEM_NAMESPACES:
                problems.append(
                    ConfigProblem(
                        key,
                        f"'{namespace}' is a namespace of the cluster itself; a default-deny "
                        "policy there would cut off cluster DNS and the control plane. Choose a "
                        "namespace of this project's own",
                    )
                )
            first = owner.setdefault(namespace, key)
            if first != key and {first, key} != SHARED_GATEWAY_KEYS:
                problems.append(
                    ConfigProblem(
                        key,
                        f"namespace '{namespace}' is already tbcoin-platform:{first}; each "
                        "needs a namespace of its own (their NetworkPolicies and Pod Security "
                        "labels would collide)",
                    )
                )
        return problems

    def _alert_route_problems(self) -> list[ConfigProblem]:
        # Alerts without a receiver go to the `null` receiver: nobody would be paged in prod.
        production = any(e.tier == "production" for e in self.environments.values())
        alerting = self.monitoring.alerting if self.monitoring is not None else None
        routed = alerting is None or alerting.default_receiver or "critical" in alerting.routes
        if production and not routed:
            return [
                ConfigProblem(
                    "monitoring.alerting",
                    "a production stack must send its alerts somewhere: set defaultReceiver "
                    "(or at least a route for 'critical') to one of its receivers",
                )
            ]
        return []

    def _hostname_problems(self) -> list[ConfigProblem]:
        # Two Gateways listening for one host name: which one answers is up to the data plane.
        seen: dict[str, str] = {}
        problems = []
        for name, env in sorted(self.environments.items()):
            if env.hostname is None:
                continue
            if env.hostname in seen:
                problems.append(
                    ConfigProblem(
                        f"environments.{name}.hostname",
                        f"'{env.hostname}' is already the hostname of environment "
                        f"'{seen[env.hostname]}'",
                    )
                )
            seen.setdefault(env.hostname, name)
        return problems

    def pods_of(self, service: ServiceConfig) -> int:
        """Pods a service runs at its declared replicas during a release: a blue-green preview
        is a full copy; a canary gets its share of the replicas, up to maxWeight."""
        strategy = service.strategy
        replicas = self.replicas_of(service)
        extra = 0
        if isinstance(strategy, BlueGreen):
            extra = replicas
        elif isinstance(strategy, Canary):
            extra = -(-replicas * percent(strategy.max_weight) // 100)
        return replicas + extra

    def _quota_problems(self) -> list[ConfigProblem]:
        """An environment whose quota cannot hold its services at their declared replicas would
        have pods refused by the API server on every `up`."""
        problems = []
        for name, env in sorted(self.environments.items()):
            services = [s for s in self.services.values() if s.environment == name]
            pods = sum(self.pods_of(s) for s in services)
            need = {
                "pods": (Decimal(pods), Decimal(env.quota.pods)),
                **{
                    kind: (
                        sum(
                            (
                                quantity_value(getattr(s.resources.limits, kind)) * self.pods_of(s)
                                for s in services
                            ),
                            Decimal(0),
                        ),
                        quantity_value(getattr(env.quota, kind)),
                    )
                    for kind in ("cpu", "memory")
                },
            }
            for kind, (total, quota) in need.items():
                if total > quota:
                    problems.append(
                        ConfigProblem(
                            f"environments.{name}.quota.{kind}",
                            f"too small for the environment's services at their declared "
                            f"replicas ({kind} limits add up to {total.normalize():f})",
                        )
                    )
        return problems

    def _service_problems(self) -> list[ConfigProblem]:
        problems = []
        routes: dict[tuple[str, str], str] = {}
        for name, svc in sorted(self.services.items()):
            route = (svc.environment, route_key(svc.path_prefix))
            if route in routes:
                problems.append(
                    ConfigProblem(
                        f"services.{name}.pathPrefix",
                        f"service '{routes[route]}' already routes '{route[1]}' in "
                        f"environment '{svc.environment}' (Gateway API ignores a trailing '/')",
                    )
                )
            routes.setdefault(route, name)
        if self.services and (self.app is None or self.gateway is None):
            missing = "app" if self.app is None else "gateway"
            problems.append(ConfigProblem(missing, "required when services are declared"))
        for name, svc in self.services.items():
            base = f"services.{name}"
            env = self.environments.get(svc.environment)
            if env is None:
                known = ", ".join(sorted(self.environments))
                problems.append(
                    ConfigProblem(f"{base}.environment", f"no such environment (known: {known})")
                )
                continue
            if env.hostname is None:
                problems.append(
                    ConfigProblem(
                        f"environments.{svc.environment}.hostname",
                        f"required: service '{name}' is routed through this environment's Gateway",
                    )
                )
            for key, ref in image_refs(svc).items():
                path = f"{base}.strategy.{key}"
                if ref == "latest":
                    problems.append(
                        ConfigProblem(path, "the mutable tag 'latest' is never deployed")
                    )
                elif ref == BUILD and (self.app is None or self.app.build is None):
                    problems.append(ConfigProblem(path, "'build' needs tbcoin-platform:app.build"))
                elif is_tag(ref) and env.tier == "production":
                    problems.append(
                        ConfigProblem(
                            path,
                            f"production images must be pinned by digest (sha256:…) or built by "
                            f"this stack ('build'); got the tag {ref!r}",
                        )
                    )
            replicas = self.replicas_of(svc)
            if svc.autoscaling and svc.autoscaling.max_replicas < replicas:
                problems.append(
                    ConfigProblem(
                        f"{base}.autoscaling.maxReplicas",
                        f"must be >= the service's replicas ({replicas})",
                    )
                )
            if svc.strategy.KIND == ROLLOUT:
                if self.rollouts is None:
                    problems.append(
                        ConfigProblem(
                            "rollouts",
                            f"required: service '{name}' is released {svc.strategy.type} "
                            "through the Argo Rollouts controller",
                        )
                    )
                if self.monitoring is None:
                    problems.append(
                        ConfigProblem(
                            "monitoring",
                            f"required: service '{name}' is analysed against its Prometheus",
                        )
                    )
        return problems
