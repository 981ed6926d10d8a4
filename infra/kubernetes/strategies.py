"""Release strategies: which workloads, Services and routes one service is made of.

- rolling: one Deployment (`main` track), one Service, one route.
- blueGreen: one Argo Rollout; the route sends traffic to the active Service, the controller
  points `<name>` (active) and `<name>-preview` at the right ReplicaSet, runs the pre-promotion
  analysis on the preview and keeps the old color for `scaleDownDelaySeconds`.
- canary: one Argo Rollout; the controller sets the weights of our HTTPRoute through the Gateway
  API plugin, adds the header route as a managed route, walks the steps and aborts on a failed
  background analysis.

Objects the controller edits after creation are declared with `ignore_changes` on exactly the
field it owns (both are atomic in their schemas, so Pulumi would otherwise revert it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.config.base import go_duration, percent, seconds
from infra.config.monitoring import Thresholds
from infra.config.services import BlueGreen, Canary
from infra.kubernetes.analysis import analysis_template_manifest
from infra.kubernetes.gateway import Backend, http_route_manifest, route_rule
from infra.kubernetes.workload import (
    Workload,
    service_account_manifest,
    service_manifest,
    workload_manifests,
)
from infra.manifests.labels import SCRAPE, TRACK
from infra.monitoring.target import MonitoredService
from infra.release import ACTIVE, CANARY, MAIN, PREVIEW, STABLE, ServiceRelease

CANARY_MAX_WEIGHT = "tbcoin.io/canary-max-weight"
CANARY_SERVICE = "tbcoin.io/canary-service"
GATEWAY_PLUGIN = "argoproj-labs/gatewayAPI"
HEADER_ROUTE = "canary-header"
# What the controller owns on the objects it shares with Pulumi.
CONTROLLER_OWNS = {"HTTPRoute": "spec.rules", "Service": "spec.selector"}


@dataclass(frozen=True)
class ServiceContext:
    app: str
    hostname: str
    port: int
    health_path: str
    readiness_path: str
    image: Any  # resolved before any builder runs: a str, or the Output of a pushed digest
    monitoring_namespace: str
    thresholds: Thresholds


@dataclass(frozen=True)
class Declared:
    """A manifest and the fields of it Pulumi must leave to a controller."""

    manifest: dict[str, Any]
    ignore_changes: tuple[str, ...] = field(default=())


def _controller_managed(manifest: dict[str, Any]) -> Declared:
    return Declared(manifest, (CONTROLLER_OWNS[manifest["kind"]],))


def _workload(release: ServiceRelease, ctx: ServiceContext) -> Workload:
    return Workload(
        plan=release.workload,
        app=ctx.app,
        environment=release.environment,
        namespace=release.namespace,
        image=ctx.image,
        resources=release.service.resources,
        port=ctx.port,
        health_path=ctx.health_path,
        readiness_path=ctx.readiness_path,
    )


def _route(
    release: ServiceRelease, ctx: ServiceContext, backends: list[Backend], w: Workload
) -> dict[str, Any]:
    rules = [route_rule(release.service.path_prefix, backends)]
    return http_route_manifest(
        release.environment, release.namespace, release.name, ctx.hostname, rules, w.selector
    )


def _metrics_service(w: Workload) -> dict[str, Any]:
    """Every pod of the Rollout once, for the ServiceMonitor: the controller points its stable and
    canary (or active and preview) Services at the same pods between releases."""
    service = service_manifest(w, w.plan.metrics_service, w.selector, role="metrics")
    service["spec"]["clusterIP"] = "None"
    service["metadata"]["labels"][SCRAPE] = "true"
    return service


def _track_metadata(track: str) -> dict[str, Any]:
    return {"labels": {TRACK: track}}


def _analysis(
    release: ServiceRelease, ctx: ServiceContext, track: str, w: Workload
) -> dict[str, Any]:
    strategy = release.service.strategy
    assert isinstance(strategy, Canary | BlueGreen)
    labels = {k: v for k, v in w.labels.items() if k != TRACK}
    return analysis_template_manifest(
        MonitoredService.of(release),
        track,
        strategy.analysis,
        ctx.thresholds,
        ctx.monitoring_namespace,
        labels,
    )


def rolling(release: ServiceRelease, ctx: ServiceContext) -> list[Declared]:
    w = _workload(release, ctx)
    name = w.plan.service_name(MAIN)
    service = service_manifest(w, name, w.selector)
    service["metadata"]["labels"][SCRAPE] = "true"
    return [
        Declared(m)
        for m in (
            service_account_manifest(w),
            *workload_manifests(w),
            service,
            _route(release, ctx, [Backend(name)], w),
        )
    ]


def blue_green(release: ServiceRelease, strategy: BlueGreen, ctx: ServiceContext) -> list[Declared]:
    w = _workload(release, ctx)
    active, preview = w.plan.service_name(ACTIVE), w.plan.service_name(PREVIEW)
    analysis = _analysis(release, ctx, PREVIEW, w)
    spec: dict[str, Any] = {
        "activeService": active,
        "previewService": preview,
        "activeMetadata": _track_metadata(ACTIVE),
        "previewMetadata": _track_metadata(PREVIEW),
        "autoPromotionEnabled": strategy.promotion.mode == "timed",
        "scaleDownDelaySeconds": int(seconds(strategy.scale_down_delay)),
        "prePromotionAnalysis": {"templates": [{"templateName": analysis["metadata"]["name"]}]},
    }
    if strategy.promotion.after is not None:
        spec["autoPromotionSeconds"] = int(seconds(strategy.promotion.after))
    return [
        Declared(service_account_manifest(w)),
        Declared(analysis),
        *(Declared(m) for m in workload_manifests(w, {"blueGreen": spec})),
        _controller_managed(service_manifest(w, active, w.selector, role=ACTIVE)),
        _controller_managed(service_manifest(w, preview, w.selector, role=PREVIEW)),
        Declared(_metrics_service(w)),
        Declared(_route(release, ctx, [Backend(active)], w)),
    ]


def canary_steps(strategy: Canary) -> list[dict[str, Any]]:
    header = strategy.header
    steps: list[dict[str, Any]] = [
        {
            "setHeaderRoute": {
                "name": HEADER_ROUTE,
                "match": [{"headerName": header.name, "headerValue": {"exact": header.value}}],
            }
        }
    ]
    for step in strategy.steps:
        steps.append({"setWeight": percent(step.weight)})
        # No duration: wait for `infractl rollout promote` (the last step, at maxWeight).
        steps.append({"pause": {"duration": go_duration(step.pause)} if step.pause else {}})
    return steps


def canary(release: ServiceRelease, strategy: Canary, ctx: ServiceContext) -> list[Declared]:
    w = _workload(release, ctx)
    stable, candidate = w.plan.service_name(STABLE), w.plan.service_name(CANARY)
    analysis = _analysis(release, ctx, CANARY, w)
    spec = {
        "canaryService": candidate,
        "stableService": stable,
        "canaryMetadata": _track_metadata(CANARY),
        "stableMetadata": _track_metadata(STABLE),
        "trafficRouting": {
            "managedRoutes": [{"name": HEADER_ROUTE}],
            "plugins": {
                GATEWAY_PLUGIN: {
                    "httpRoutes": [{"name": w.name, "useHeaderRoutes": True}],
                    "namespace": release.namespace,
                }
            },
        },
        "steps": canary_steps(strategy),
        # Background analysis from the first weight on; a failure aborts to weight 0.
        "analysis": {
            "templates": [{"templateName": analysis["metadata"]["name"]}],
            "startingStep": 1,
        },
    }
    # Explicit weights: an omitted weight defaults to 1, a 50/50 split until the controller acts.
    route = _route(release, ctx, [Backend(stable, 100), Backend(candidate, 0)], w)
    # The route carries its own bound and names its canary backend, so a policy can check the
    # weight on the route alone (it sees the declared weights, not the controller's live ones).
    route["metadata"]["annotations"] = {
        CANARY_MAX_WEIGHT: str(percent(strategy.max_weight)),
        CANARY_SERVICE: candidate,
    }
    return [
        Declared(service_account_manifest(w)),
        Declared(analysis),
        *(Declared(m) for m in workload_manifests(w, {"canary": spec})),
        _controller_managed(service_manifest(w, stable, w.selector, role=STABLE)),
        _controller_managed(service_manifest(w, candidate, w.selector, role=CANARY)),
        Declared(_metrics_service(w)),
        _controller_managed(route),
    ]


def release_manifests(release: ServiceRelease, ctx: ServiceContext) -> list[Declared]:
    strategy = release.service.strategy
    if isinstance(strategy, BlueGreen):
        return blue_green(release, strategy, ctx)
    if isinstance(strategy, Canary):
        return canary(release, strategy, ctx)
    return rolling(release, ctx)
