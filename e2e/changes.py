"""A real preview of a *change* of a deployed stack, for the PR report to be tested on the
engine's own output (values old -> new, what forces a replacement, the ranking): after `up`, the
stack's settings are edited, `pulumi preview` runs with the policy pack, and the settings file is
put back byte for byte. Nothing is applied."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from e2e import engine
from e2e.programs import program
from e2e.stacks import NS

# What each edit makes the engine plan, by kind of step.
EXPECTED = ("update", "replace", "delete")


def _prod(config: dict[str, Any]) -> list[str]:
    services = config[f"{NS}:services"]
    services["inference"]["resources"]["requests"]["cpu"] = "750m"
    services["api"].pop("autoscaling")
    config[f"{NS}:monitoring"].setdefault("thresholds", {})["latencyP95"] = "400ms"
    return [
        "update: services.inference.resources.requests.cpu 500m -> 750m (the Rollout)",
        "delete: services.api.autoscaling removed (its HorizontalPodAutoscaler)",
        "replace: monitoring.thresholds.latencyP95 500ms -> 400ms (the dashboards' "
        "ConfigMaps: the provider replaces a ConfigMap whose data changes)",
    ]


EDITS: dict[str, Callable[[dict[str, Any]], list[str]]] = {"prod": _prod}


def change_preview(
    pulumi: engine.Engine, stack: str, pack_args: list[str]
) -> tuple[engine.Result, list[str]]:
    """The preview of the stack's edit (see EDITS) with the pack; the settings restored."""
    path = pulumi.project / f"Pulumi.{stack}.yaml"
    before = path.read_text()
    document = yaml.safe_load(before)
    made = EDITS[stack](document["config"])
    try:
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        result = pulumi.run("preview", "--stack", stack, *pack_args, program=program)
    finally:
        path.write_text(before)
    return result, made
