"""Blue-green and canary behave as the runbooks promise, checked on synthesized stacks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.config.services import ServiceConfig
from infra.kubernetes.strategies import ServiceContext, release_manifests
from tests.conftest import infractl, manifests, resources


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            p for k in sorted(set(a) | set(b)) for p in _diff(a.get(k), b.get(k), f"{path}/{k}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            p
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for p in _diff(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [path]


def _by_urn(out: Path) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for r in resources(out)}


def _synth(stack_file: Path, out: Path) -> Path:
    run = infractl("synth", "--stack", "prod", "--config-file", stack_file, "--out", out)
    assert run.code == 0, run.stderr
    return out


def _strategy(config: dict[str, Any], service: str) -> dict[str, Any]:
    return config["tbcoin-platform:services"][service]["strategy"]


def test_switching_active_color_changes_only_service_selectors(
    synthesized: Callable[[str], Path], mutated_stack: Callable[..., Path], tmp_path: Path
) -> None:
    before = _by_urn(synthesized("prod"))
    after = _by_urn(
        _synth(
            mutated_stack(lambda c: _strategy(c, "api").update(activeColor="green")),
            tmp_path / "out",
        )
    )
    assert set(before) == set(after)
    changed = {urn: _diff(before[urn], after[urn]) for urn in before}
    changed = {urn.rsplit("::", 1)[1]: paths for urn, paths in changed.items() if paths}
    assert changed == {
        "tbcoin-prod-service-api": ["/inputs/spec/selector/tbcoin.io/track"],
        "tbcoin-prod-service-api-preview": ["/inputs/spec/selector/tbcoin.io/track"],
    }
    live = next(
        m
        for m in manifests(tmp_path / "out")
        if m["kind"] == "Service" and m["metadata"]["name"] == "api"
    )
    assert live["spec"]["selector"]["tbcoin.io/track"] == "green"


def test_canary_route_splits_by_config_and_routes_testers_by_header(
    synthesized: Callable[[str], Path],
) -> None:
    route = next(
        m
        for m in manifests(synthesized("prod"))
        if m["kind"] == "HTTPRoute" and m["metadata"]["name"] == "inference"
    )
    header_rule, split_rule = route["spec"]["rules"]
    assert header_rule["matches"][0]["headers"] == [
        {"name": "x-canary", "type": "Exact", "value": "always"}
    ]
    assert [b["name"] for b in header_rule["backendRefs"]] == ["inference-canary"]
    weights = {b["name"]: b["weight"] for b in split_rule["backendRefs"]}
    assert weights == {"inference-stable": 95, "inference-canary": 5}
    assert sum(weights.values()) == 100


@pytest.mark.parametrize("weight", [0, 25, 50, 100])
def test_canary_weights_follow_config_and_sum_to_100(weight: int) -> None:
    svc = ServiceConfig.model_validate(
        {
            "environment": "production",
            "strategy": {
                "type": "canary",
                "stable": "v1",
                "canary": "v2",
                "weight": weight,
                "steps": [5, 25, 50, 100],
            },
        }
    )
    route = next(m for m in release_manifests("svc", svc, _context()) if m["kind"] == "HTTPRoute")
    refs = route["spec"]["rules"][1]["backendRefs"]
    assert [r["weight"] for r in refs] == [100 - weight, weight]


def _context(replicas: int = 3) -> ServiceContext:
    return ServiceContext(
        app="app",
        environment="production",
        namespace="ns",
        hostname="example.com",
        port=8000,
        health_path="/health",
        replicas=replicas,
        resolve_image=lambda ref: f"repo:{ref}",
    )


def test_idle_color_scaled_to_zero_has_no_budget_or_autoscaler() -> None:
    svc = ServiceConfig.model_validate(
        {
            "environment": "production",
            "autoscaling": {"maxReplicas": 6},
            "strategy": {
                "type": "blueGreen",
                "activeColor": "blue",
                "blue": "v1",
                "green": "v2",
                "idleReplicas": 0,
            },
        }
    )
    objects = release_manifests("api", svc, _context())
    by_kind: dict[str, list[str]] = {}
    for m in objects:
        by_kind.setdefault(m["kind"], []).append(m["metadata"]["name"])
    assert by_kind["PodDisruptionBudget"] == ["api-blue"]
    assert by_kind["HorizontalPodAutoscaler"] == ["api-blue"]
    green = next(
        m for m in objects if m["metadata"]["name"] == "api-green" and m["kind"] == "Deployment"
    )
    assert green["spec"]["replicas"] == 0
    blue = next(
        m for m in objects if m["metadata"]["name"] == "api-blue" and m["kind"] == "Deployment"
    )
    assert "replicas" not in blue["spec"], "the HPA owns the replica count of an autoscaled color"


def test_colors_differ_only_in_track_and_image(synthesized: Callable[[str], Path]) -> None:
    deployments = {
        m["metadata"]["name"]: m
        for m in manifests(synthesized("prod"))
        if m["kind"] == "Deployment"
    }
    paths = _diff(deployments["api-blue"], deployments["api-green"])
    assert paths, "blue and green must differ"
    for path in paths:
        assert path.endswith(("tbcoin.io/track", "/name", "/image", "/value")), path
