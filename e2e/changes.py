"""A real preview of a *change* of a deployed stack, for the PR report to be tested on the
engine's own output (values old -> new, what forces a replacement, the ranking): after `up`, the
stack's settings are edited, `pulumi preview` runs with the policy pack, and the settings file is
put back byte for byte. Nothing is applied."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from e2e.report import errors
from e2e.scenario import StackRun, Step
from e2e.stacks import NS

# What each edit makes the engine plan, by kind of step.
EXPECTED = ("update", "replace", "delete")


def _prod(config: dict[str, Any]) -> list[str]:
    services = config[f"{NS}:services"]
    services["inference"]["resources"]["requests"]["cpu"] = "750m"
    services["api"].pop("autoscaling")
    config[f"{NS}:monitoring"].setdefault("thresholds", {})["latencyP95"] = "400ms"
    # A release's analysis may not pass a latency the service would alert on (the floor).
    for service in services.values():
        service["strategy"].setdefault("analysis", {})["latencyP95"] = "400ms"
    return [
        "update: services.inference.resources.requests.cpu 500m -> 750m (the Rollout)",
        "delete: services.api.autoscaling removed (its HorizontalPodAutoscaler)",
        "replace: monitoring.thresholds.latencyP95 500ms -> 400ms (the dashboards' "
        "ConfigMaps: the provider replaces a ConfigMap whose data changes)",
    ]


EDITS: dict[str, Callable[[dict[str, Any]], list[str]]] = {"prod": _prod}


def change_preview(s: StackRun) -> str:
    """The preview of the stack's edit (see EDITS) with the pack; the settings file restored byte
    for byte, nothing applied."""
    path = s.settings_file
    before = path.read_text()
    document = yaml.safe_load(before)
    made = EDITS[s.stack](document["config"])
    try:
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        change = s.cli("preview", pack=True)
    finally:
        path.write_text(before)
    s.report.step("change-preview", change, made=made)
    planned = change.summary()
    s.report.check(change.returncode == 0, f"change-preview failed: {errors(change)}")
    missing = [op for op in EXPECTED if not planned.get(op)]
    s.report.check(not missing, f"change-preview planned {planned}: no {missing}")
    return f"exit {change.returncode} {planned}"


STEP = Step(
    "change-preview",
    "edits the deployed stack's settings (inference's cpu request, api's autoscaling removed, "
    "the latency threshold on the dashboards), `pulumi preview` with the pack, settings restored",
    "an update, a replacement and a delete are planned; nothing is applied",
    change_preview,
    needs=("up",),
)
