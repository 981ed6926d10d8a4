"""Canary and blue-green moves as config changes, checked offline before anything is applied.

A move is a small list of `--path` config changes on the stack (exactly what a human would type
with `pulumi config set --path`); applying it is `set_config` + `up` through the Automation API.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config import ConfigError, StackConfig
from infra.config.errors import NAMESPACE
from infra.config.services import BlueGreen, Canary
from infra.stack import load_stack
from infractl.errors import InfractlError, UsageError
from infractl.ops.analysis import Verdict, analyse_canary
from infractl.project import Stack
from infractl.stackfile import StackFile


class MoveRefused(InfractlError):
    """The move makes no sense in the current state (e.g. advancing past 100%)."""


@dataclass(frozen=True)
class ConfigChange:
    path: str  # below the namespace, e.g. services.inference.strategy.weight
    old: Any
    new: Any

    @property
    def key(self) -> str:
        return f"{NAMESPACE}:{self.path}"

    def command(self, stack: str) -> str:
        return f"pulumi config set --stack {stack} --path '{self.key}' {self.new}"


def _strategy_path(service: str) -> str:
    return f"services.{service}.strategy"


def canary_move(config: StackConfig, service: str, action: str) -> list[ConfigChange]:
    svc = config.services.get(service)
    if svc is None or not isinstance(svc.strategy, Canary):
        raise MoveRefused(f"service {service!r} is not released as a canary in this stack")
    s, base = svc.strategy, _strategy_path(service)
    if action == "abort":
        if s.weight == 0:
            raise MoveRefused("the canary already gets no traffic (weight 0)")
        return [ConfigChange(f"{base}.weight", s.weight, 0)]
    if action == "promote":
        changes = [ConfigChange(f"{base}.stable", s.stable, s.canary)]
        if s.weight:
            changes.append(ConfigChange(f"{base}.weight", s.weight, 0))
        return changes
    later = [step for step in s.steps if step > s.weight]
    if not later or later[0] == 100:
        raise MoveRefused(
            f"weight {s.weight} is the last step before full traffic: use `canary promote`"
        )
    if later[0] > s.max_weight:
        raise MoveRefused(
            f"the next step ({later[0]}%) is above maxWeight {s.max_weight}%: use `canary promote`"
        )
    return [ConfigChange(f"{base}.weight", s.weight, later[0])]


def bluegreen_move(config: StackConfig, service: str) -> list[ConfigChange]:
    svc = config.services.get(service)
    if svc is None or not isinstance(svc.strategy, BlueGreen):
        raise MoveRefused(f"service {service!r} is not released blue-green in this stack")
    s = svc.strategy
    if s.idle_replicas == 0:
        raise MoveRefused(
            f"the idle color ({s.idle_color()}) runs no replicas: set idleReplicas first, "
            "`pulumi up`, check it, then switch"
        )
    return [ConfigChange(f"{_strategy_path(service)}.activeColor", s.active_color, s.idle_color())]


def _apply_path(sections: dict[str, Any], change: ConfigChange) -> None:
    top, *rest = change.path.split(".")
    node = sections[top]
    for part in rest[:-1]:
        node = node[part]
    node[rest[-1]] = change.new


def validate_move(
    stack: str, source: str, stack_file: StackFile, changes: list[ConfigChange]
) -> StackConfig:
    """The config after the move, validated exactly like a `pulumi up` would be."""
    flat = copy.deepcopy(stack_file.config)
    for change in changes:
        key = f"{NAMESPACE}:{change.path.split('.')[0]}"
        value = json.loads(flat[key])
        _apply_path({change.path.split(".")[0]: value}, change)
        flat[key] = json.dumps(value, sort_keys=True)
    return load_stack(f"{source} (after the move)", flat, stack=stack)


@dataclass
class Move:
    """A planned move: its config changes, and the canary analysis that gated it (if any)."""

    changes: list[ConfigChange]
    analysis: Verdict | None = None
    refused: bool = False


def _canary_analysis(
    config: StackConfig, service: str, prometheus: str | None, window: str
) -> Verdict:
    from infra.monitoring.target import monitored_services

    if not prometheus or config.monitoring is None:
        raise UsageError("canary analysis needs --prometheus URL (or $PROMETHEUS_URL)")
    svc = next(s for s in monitored_services(config) if s.name == service)
    return analyse_canary(prometheus, svc, config.monitoring.thresholds, window)


def plan_move(
    stack: Stack,
    kind: str,
    service: str,
    action: str = "switch",
    prometheus: str | None = None,
    window: str = "5m",
) -> Move:
    """The changes of a canary or blue-green move, validated like a `pulumi up` would be. A canary
    that already gets traffic only advances or is promoted if Prometheus says it is healthy."""
    config = stack.load()
    if kind == "bluegreen":
        move = Move(bluegreen_move(config, service))
    else:
        move = Move(canary_move(config, service, action))
        strategy = config.services[service].strategy
        if action in ("advance", "promote") and getattr(strategy, "weight", 0) > 0:
            move.analysis = _canary_analysis(config, service, prometheus, window)
            move.refused = not move.analysis.healthy
    if not move.refused:
        validate_move(stack.name, stack.source, stack.file, move.changes)
    return move


def apply_move(project: Path, stack: str, changes: list[ConfigChange]) -> None:
    """Set the config through the Automation API and run `up` (needs the pulumi CLI)."""
    from pulumi import automation as auto

    try:
        workspace_stack = auto.select_stack(stack_name=stack, work_dir=str(project))
    except (auto.errors.CommandError, FileNotFoundError, OSError) as exc:
        raise MoveRefused(f"could not open stack {stack!r} with the pulumi CLI: {exc}") from None
    for change in changes:
        workspace_stack.set_config(change.key, auto.ConfigValue(value=str(change.new)), path=True)
    workspace_stack.up(on_output=print)


__all__ = ["ConfigChange", "ConfigError", "Move", "MoveRefused", "apply_move", "bluegreen_move",
           "canary_move", "plan_move", "validate_move"]  # fmt: skip
