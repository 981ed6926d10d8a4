"""Whether the canaries this project generates meet the known defects of the Gateway API
traffic-router plugin it pins (v0.15.0), read from the plugin's and the controller's source
(docs/runbooks/releases.md, "Known defects of the traffic-router plugin"):

- #147 (open): the controller removes managed routes on every sync while the canary has no
  available pod, and sets a header route only during its own step; a header route set before the
  first weight is gone for the rest of the release.
- #215 (v0.15.0): a `setHeaderRoute` removes every plugin rule whose matches carry the same header
  names, so two header routes on one header overwrite each other.
- #151 (fixed in v0.14.0, name-based bookkeeping): the plugin now treats as its own any rule
  named `<managed route>` or `<managed route>-<n>`, and any rule whose only backend is the canary
  Service; such a rule of ours would be edited or deleted by it.
- #182 (fixed in v0.14.0): no ConfigMap bookkeeping any more; a plugin older than v0.14.0 would
  bring it back.

Each check below is shown to catch the exposure it guards (the mutation tests)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.config.rollouts import GATEWAY_PLUGIN_VERSION
from tests.conftest import manifests

# The first plugin release without the ConfigMap (plugin PR #179) and with named header rules.
NAMED_RULES_SINCE = (0, 14, 0)


def _version(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in tag.lstrip("v").split("."))


def exposures(rollout: dict[str, Any], route: dict[str, Any]) -> list[str]:
    """The defects a canary Rollout and the HTTPRoute it drives are exposed to."""
    canary = rollout["spec"]["strategy"]["canary"]
    steps = canary.get("steps") or []
    found = []
    first_weight = next((i for i, s in enumerate(steps) if s.get("setWeight", 0) > 0), len(steps))
    headers = [i for i, s in enumerate(steps) if "setHeaderRoute" in s]
    if any(i < first_weight for i in headers):
        found.append("#147: a header route is set before the canary has pods")
    header_names: dict[str, set[str]] = {}
    for i in headers:
        route_step = steps[i]["setHeaderRoute"]
        for match in route_step.get("match") or []:
            header_names.setdefault(match["headerName"].lower(), set()).add(route_step["name"])
    if any(len(names) > 1 for names in header_names.values()):
        found.append("#215: two header routes match the same header")
    managed = [r["name"] for r in canary["trafficRouting"].get("managedRoutes") or []]
    for rule in route["spec"]["rules"]:
        name = rule.get("name", "")
        if any(name == m or re.fullmatch(re.escape(m) + r"-[0-9]+", name) for m in managed):
            found.append(f"#151: our rule {name!r} carries a name the plugin manages")
        refs = rule.get("backendRefs") or []
        if len(refs) == 1 and refs[0]["name"] == canary["canaryService"]:
            found.append("#151: a rule of ours sends only to the canary (the plugin deletes it)")
    return found


def _canaries(out: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    objects = manifests(out)
    pairs = []
    for rollout in objects:
        if rollout["kind"] != "Rollout" or "canary" not in rollout["spec"]["strategy"]:
            continue
        plugin = rollout["spec"]["strategy"]["canary"]["trafficRouting"]["plugins"]
        (routes,) = (p["httpRoutes"] for p in plugin.values())
        for ref in routes:
            route = next(
                o
                for o in objects
                if o["kind"] == "HTTPRoute" and o["metadata"]["name"] == ref["name"]
            )
            pairs.append((rollout, route))
    return pairs


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_our_canaries_meet_none_of_the_plugins_known_defects(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    pairs = _canaries(synthesized(stack))
    assert pairs
    for rollout, route in pairs:
        assert exposures(rollout, route) == [], rollout["metadata"]["name"]


def test_the_pinned_plugin_has_no_configmap_bookkeeping() -> None:
    """#182: the race lived in the ConfigMap that v0.14.0 removed."""
    assert _version(GATEWAY_PLUGIN_VERSION) >= NAMED_RULES_SINCE


def _mutated(
    synthesized: Callable[[str], Path], edit: Callable[[dict[str, Any], dict[str, Any]], None]
) -> list[str]:
    rollout, route = (copy.deepcopy(o) for o in _canaries(synthesized("prod"))[0])
    edit(rollout, route)
    return exposures(rollout, route)


def test_each_exposure_is_caught(synthesized: Callable[[str], Path]) -> None:
    def header_first(rollout: dict[str, Any], _: dict[str, Any]) -> None:
        steps = rollout["spec"]["strategy"]["canary"]["steps"]
        steps.insert(0, steps.pop(1))

    def second_header_route(rollout: dict[str, Any], _: dict[str, Any]) -> None:
        canary = rollout["spec"]["strategy"]["canary"]
        again = copy.deepcopy(canary["steps"][1])
        again["setHeaderRoute"]["name"] = "canary-header-qa"
        again["setHeaderRoute"]["match"][0]["headerValue"] = {"exact": "qa"}
        canary["steps"].insert(2, again)

    def named_like_the_plugins(_: dict[str, Any], route: dict[str, Any]) -> None:
        route["spec"]["rules"][0]["name"] = "canary-header-1"

    def canary_only_rule(rollout: dict[str, Any], route: dict[str, Any]) -> None:
        canary = rollout["spec"]["strategy"]["canary"]["canaryService"]
        route["spec"]["rules"].append({"backendRefs": [{"name": canary, "port": 80}]})

    assert _mutated(synthesized, header_first) == [
        "#147: a header route is set before the canary has pods"
    ]
    assert _mutated(synthesized, second_header_route) == [
        "#215: two header routes match the same header"
    ]
    assert _mutated(synthesized, named_like_the_plugins) == [
        "#151: our rule 'canary-header-1' carries a name the plugin manages"
    ]
    assert _mutated(synthesized, canary_only_rule) == [
        "#151: a rule of ours sends only to the canary (the plugin deletes it)"
    ]
    assert _version("v0.13.0") < NAMED_RULES_SINCE
