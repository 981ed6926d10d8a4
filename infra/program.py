"""The Pulumi program: read typed config once, then declare every component from it."""

from __future__ import annotations

import pulumi

from infra.config import ConfigError, StackConfig, runtime_config, runtime_secret_keys
from infra.docker.image import image_resolver
from infra.github.governance import declare_governance
from infra.kubernetes.app_service import AppService
from infra.kubernetes.environment import Environment
from infra.kubernetes.gateway_install import GatewayController
from infra.kubernetes.provider import kubernetes_provider
from infra.kubernetes.rollouts_install import ArgoRollouts
from infra.kubernetes.strategies import ServiceContext
from infra.monitoring.component import MonitoringStack
from infra.release import ROLLOUT, release_plan
from infra.secrets import MissingSecret
from infra.stack import deploy_problems, load_stack


def stack_file() -> str:
    return f"Pulumi.{pulumi.get_stack()}.yaml"


def declare(stack: str, config: StackConfig) -> None:
    if config.github is not None:
        declare_governance(config.github)
    provider = kubernetes_provider(stack, config.kubernetes)
    k8s_opts = pulumi.ResourceOptions(providers=[provider])
    app_name = config.app_name
    monitoring_ns = config.monitoring_namespace
    environments = {
        name: Environment(name, env, app_name, config.gateway, monitoring_ns, k8s_opts)
        for name, env in sorted(config.environments.items())
    }
    for name, env in sorted(config.environments.items()):
        pulumi.export(f"{name}Namespace", env.namespace)
    if config.gateway and config.gateway.install:
        GatewayController("envoy-gateway", config.gateway, config.gateway.install, k8s_opts)
    monitoring = None
    if config.monitoring is not None:
        monitoring = MonitoringStack(
            config,
            config.monitoring,
            {name: env.namespace for name, env in environments.items()},
            k8s_opts,
        )
    rollouts = None
    if config.rollouts is not None:
        rollouts = ArgoRollouts(config.rollouts, monitoring_ns, monitoring, k8s_opts)
    if not config.services or config.app is None:
        return
    app = config.app
    # Every image is resolved (and the app image built, if any) before a manifest is built.
    resolve = image_resolver(config)
    releases = release_plan(config)
    images = {r.name: resolve(r.service.strategy.image) for r in releases}
    for release in releases:
        hostname = config.environments[release.environment].hostname
        assert hostname is not None  # StackConfig.problems() guarantees it
        context = ServiceContext(
            app=app.name,
            hostname=hostname,
            port=app.port,
            health_path=app.health_path,
            readiness_path=app.readiness_path,
            image=images[release.name],
            monitoring_namespace=monitoring_ns,
            thresholds=config.thresholds,
        )
        after: list[pulumi.Resource] = [environments[release.environment].namespace]
        if rollouts is not None and release.workload.kind == ROLLOUT:
            after.append(rollouts)  # the Rollout and AnalysisTemplate CRDs come with its chart
        AppService(release, context, pulumi.ResourceOptions(providers=[provider], depends_on=after))


def main(config: StackConfig | None = None) -> None:
    """Run the program; `config` is the stack's config when the caller has loaded it already
    (the offline harness), else it is read from the engine."""
    try:
        if config is None:
            config = load_stack(
                stack_file(), runtime_config(), runtime_secret_keys(), stack=pulumi.get_stack()
            )
            # Read from the engine: this run can deploy, so an unresolved value stops it here.
            if unresolved := deploy_problems(config):
                raise ConfigError(stack_file(), unresolved)
        declare(pulumi.get_stack(), config)
    except ConfigError as exc:
        # RunError is reported by the engine as a plain message, without a Python traceback.
        raise pulumi.RunError(exc.render()) from None
    except MissingSecret as exc:
        raise pulumi.RunError(f"{stack_file()}: {exc}") from None
