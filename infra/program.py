"""The Pulumi program: read typed config once, then declare every component from it."""

from __future__ import annotations

import pulumi

from infra.config import ConfigError, StackConfig, load_from_runtime
from infra.kubernetes.environment import Environment
from infra.kubernetes.provider import kubernetes_provider


def stack_file() -> str:
    return f"Pulumi.{pulumi.get_stack()}.yaml"


def declare(stack: str, config: StackConfig) -> None:
    provider = kubernetes_provider(stack, config.kubernetes)
    for name, env in sorted(config.environments.items()):
        Environment(name, env, pulumi.ResourceOptions(providers=[provider]))
        pulumi.export(f"{name}Namespace", env.namespace)


def main() -> None:
    try:
        config = load_from_runtime(stack_file())
    except ConfigError as exc:
        # RunError is reported by the engine as a plain message, without a Python traceback.
        raise pulumi.RunError(exc.render()) from None
    declare(pulumi.get_stack(), config)
