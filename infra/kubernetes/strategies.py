"""Release strategies: which workloads, Services and routes one service is made of.

- rolling: one Deployment (`main` track), one Service, one route.
- blueGreen: blue and green Deployments that differ only in track label and image; the live
  Service selects the active color, `<name>-preview` the idle one. Switching `activeColor` swaps
  the two selectors and nothing else (when the idle color is kept warm).
- canary: stable and canary Deployments with a Service each; the HTTPRoute splits traffic by
  weight and sends requests carrying the canary header straight to the canary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.config.services import BlueGreen, Canary, Rolling, ServiceConfig
from infra.kubernetes.gateway import Backend, HeaderMatch, http_route_manifest, route_rule
from infra.kubernetes.workload import (
    Workload,
    service_account_manifest,
    service_manifest,
    workload_manifests,
)

ImageResolver = Callable[[str], Any]
CANARY_MAX_WEIGHT = "tbcoin.io/canary-max-weight"


@dataclass(frozen=True)
class ServiceContext:
    app: str
    environment: str
    namespace: str
    hostname: str
    port: int
    health_path: str
    replicas: int
    resolve_image: ImageResolver


def _workload(
    name: str, svc: ServiceConfig, ctx: ServiceContext, track: str, image: str
) -> Workload:
    return Workload(
        app=ctx.app,
        service=name,
        track=track,
        environment=ctx.environment,
        namespace=ctx.namespace,
        image=ctx.resolve_image(image),
        replicas=ctx.replicas,
        resources=svc.resources,
        port=ctx.port,
        health_path=ctx.health_path,
        autoscaling=svc.autoscaling,
    )


def _route(
    name: str, ctx: ServiceContext, rules: list[dict[str, Any]], w: Workload
) -> dict[str, Any]:
    labels = {k: v for k, v in w.selector.items() if k != "tbcoin.io/track"}
    return http_route_manifest(ctx.environment, ctx.namespace, name, ctx.hostname, rules, labels)


def rolling(
    name: str, svc: ServiceConfig, strategy: Rolling, ctx: ServiceContext
) -> list[dict[str, Any]]:
    w = _workload(name, svc, ctx, "main", strategy.image)
    route = _route(name, ctx, [route_rule(svc.path_prefix, [Backend(name)])], w)
    return [
        service_account_manifest(w),
        *workload_manifests(w),
        service_manifest(w, name, w.selector),
        route,
    ]


def blue_green(
    name: str, svc: ServiceConfig, strategy: BlueGreen, ctx: ServiceContext
) -> list[dict[str, Any]]:
    idle = strategy.idle_color()
    keep_warm = strategy.idle_replicas == ctx.replicas
    colors: dict[str, Workload] = {}
    for color, image in (("blue", strategy.blue), ("green", strategy.green)):
        w = _workload(name, svc, ctx, color, image)
        if color == idle and not keep_warm:
            w = dataclasses.replace(w, replicas=strategy.idle_replicas, autoscaling=None)
        colors[color] = w
    live, preview = colors[strategy.active_color], colors[idle]
    route = _route(name, ctx, [route_rule(svc.path_prefix, [Backend(name)])], live)
    return [
        service_account_manifest(live),
        *workload_manifests(colors["blue"]),
        *workload_manifests(colors["green"]),
        service_manifest(live, name, live.selector, role="live"),
        service_manifest(preview, f"{name}-preview", preview.selector, role="preview"),
        route,
    ]


def canary(
    name: str, svc: ServiceConfig, strategy: Canary, ctx: ServiceContext
) -> list[dict[str, Any]]:
    stable = _workload(name, svc, ctx, "stable", strategy.stable)
    candidate = dataclasses.replace(
        _workload(name, svc, ctx, "canary", strategy.canary),
        replicas=strategy.canary_replicas,
        autoscaling=None,
    )
    header = HeaderMatch(strategy.header.name, strategy.header.value)
    rules = [
        route_rule(svc.path_prefix, [Backend(candidate.name)], header),
        route_rule(
            svc.path_prefix,
            [
                Backend(stable.name, 100 - strategy.weight),
                Backend(candidate.name, strategy.weight),
            ],
        ),
    ]
    route = _route(name, ctx, rules, stable)
    # The route carries its own bound, so a policy can check the weight without the config.
    route["metadata"]["annotations"] = {CANARY_MAX_WEIGHT: str(strategy.max_weight)}
    return [
        service_account_manifest(stable),
        *workload_manifests(stable),
        *workload_manifests(candidate),
        service_manifest(stable, stable.name, stable.selector, role="stable"),
        service_manifest(candidate, candidate.name, candidate.selector, role="canary"),
        route,
    ]


def release_manifests(name: str, svc: ServiceConfig, ctx: ServiceContext) -> list[dict[str, Any]]:
    strategy = svc.strategy
    if isinstance(strategy, Rolling):
        return rolling(name, svc, strategy, ctx)
    if isinstance(strategy, BlueGreen):
        return blue_green(name, svc, strategy, ctx)
    return canary(name, svc, strategy, ctx)
