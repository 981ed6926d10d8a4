"""The stacks as the e2e run deploys them: the repository's own settings, with the parts that need
GitHub or a Docker engine taken out (neither exists here) and every edit stated in EDITS."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from e2e.tools import ROOT

NS = "tbcoin-platform"
# Any well-formed digest: pods under KWOK run no code, so no image is ever pulled.
E2E_DIGEST = "sha256:" + "e2" * 32

# What differs from Pulumi.<stack>.yaml, and why (docs/internals/e2e.md lists the same).
EDITS = (
    "github removed: GitHub cannot be reached (its inputs go through the provider schema instead)",
    "app.build removed and `image: build` set to a fixed digest: no Docker engine to build with",
    "rollouts.gatewayPluginImage's placeholder digest replaced by a fixed one: the real engine "
    "refuses the placeholder, and no registry is reachable to resolve the real one",
    "Rollout timings shortened (analysis every 30s over 1m, the old blue-green color kept 30 s, "
    "each timed canary pause 1m): the releases run on the real controller within the run's "
    "budget",
)
# The shortest timings the config accepts that still measure (two scrapes per window).
E2E_ANALYSIS = {"interval": "30s", "window": "1m"}
E2E_SCALE_DOWN_DELAY = 30  # seconds
# A timed canary pause: the shortest the floor accepts (at least the analysis window).
E2E_CANARY_PAUSE = E2E_ANALYSIS["window"]

# What a stack expects its cluster to have already (staging: "the staging cluster provides its own
# Gateway implementation and class"), installed from the vendored upstream files before `up`.
CLUSTER_PROVIDES = {
    "staging": (ROOT / "vendor" / "crds" / "gateway-api" / "gatewayapi-crds.yaml",),
    "prod": (),
}

# fromEnv secrets of both stacks get throw-away values, so that state shows how secrets land.
SECRET_ENV = {
    "GRAFANA_ADMIN_PASSWORD": "e2e-grafana-admin-password-not-real",
    "SLACK_ALERTS_WEBHOOK": "https://hooks.slack.invalid/e2e-not-real",
    "PAGERDUTY_ROUTING_KEY": "e2e0pagerduty0routing0key0not0real",
}


def settings(stack: str) -> dict[str, Any]:
    """Pulumi.<stack>.yaml as deployed by the e2e run."""
    return deployable(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()))


def deployable(document: dict[str, Any]) -> dict[str, Any]:
    """A stack file's settings with the EDITS made (the bench's synthetic stacks use it too)."""
    config = copy.deepcopy(document["config"])
    config.pop(f"{NS}:github", None)
    app = config.get(f"{NS}:app") or {}
    app.pop("build", None)
    rollouts = config.get(f"{NS}:rollouts")
    if rollouts is not None:
        image = rollouts["gatewayPluginImage"]
        rollouts["gatewayPluginImage"] = image.rpartition("@")[0] + "@" + E2E_DIGEST
    for service in (config.get(f"{NS}:services") or {}).values():
        strategy = service.get("strategy") or {}
        if strategy.get("image") == "build":
            strategy["image"] = E2E_DIGEST
        if "analysis" in strategy:
            strategy["analysis"] |= E2E_ANALYSIS
        if strategy.get("type") == "blueGreen":
            strategy["scaleDownDelay"] = f"{E2E_SCALE_DOWN_DELAY}s"
        for step in strategy.get("steps") or []:
            if step.get("pause"):
                step["pause"] = E2E_CANARY_PAUSE
    return {"config": config}


def write(stack: str, folder: Path) -> Path:
    path = folder / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(settings(stack), sort_keys=False))
    return path
