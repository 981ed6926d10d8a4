"""AnalysisTemplates: what Argo Rollouts measures before and while it moves traffic.

Every query is one of the alerts' own expressions (infra/monitoring/rules.py), run against the
stack's Prometheus, so a release is judged exactly as the on-call alerts would judge it.
"""

from __future__ import annotations

from typing import Any

from infra.config.base import go_duration, in_seconds, seconds
from infra.config.monitoring import Thresholds
from infra.config.rollouts import Analysis
from infra.kubernetes.workload import ROLLOUTS_API
from infra.manifests.labels import BUDGET_OVERRIDE
from infra.monitoring.rules import (
    BUDGET_REMAINING,
    SLO_KINDS,
    canary_above_stable_expr,
    error_ratio_expr,
    quantile_expr,
    selector,
)
from infra.monitoring.target import MonitoredService
from infra.release import CANARY, PREVIEW

# The Prometheus Service kube-prometheus-stack creates for release `kube-prometheus-stack`.
PROMETHEUS_URL = "http://kube-prometheus-stack-prometheus.{namespace}.svc:9090"
# The budget gate's metrics (one per SLO).
BUDGET_METRIC = "{kind}-budget"


def pre_promotion_count(a: Analysis) -> int:
    """How often a pre-promotion metric measures. It must end: the controller refuses a
    Rollout whose pre-promotion metric has no count ("runs indefinitely", seen on v1.9.0), and
    never promotes. One window's worth of intervals, and at least one more than failureLimit so
    that the limit can be passed (the controller also requires count >= failureLimit)."""
    return max(int(-(-seconds(a.window) // seconds(a.interval))), a.failure_limit + 1)


def first_after(track: str, a: Analysis) -> dict[str, str]:
    """The canary's background analysis starts with the release, before the canary has a pod:
    a first measurement then finds no series, is inconclusive, and pauses the rollout; on
    Argo Rollouts v1.9.0 that pause (status.controllerPause) also makes every later pause step
    count as already resumed, so the steps' pauses are skipped (seen in make e2e). Measuring
    the canary's track from one window on gives it that window of traffic first."""
    return {"initialDelay": go_duration(a.window)} if track == CANARY else {}


def _bounded(
    name: str,
    query: str,
    limit: float,
    a: Analysis,
    address: str,
    count: int | None,
    track: str,
) -> dict[str, Any]:
    """A measurement passes at or below `limit`; no data (no traffic yet) is inconclusive,
    which pauses the rollout instead of promoting a version nobody has called."""
    return {
        "name": name,
        "interval": go_duration(a.interval),
        **first_after(track, a),
        **({"count": count} if count is not None else {}),
        "failureLimit": a.failure_limit,
        "successCondition": f"len(result) > 0 && result[0] <= {limit!r}",
        "failureCondition": f"len(result) > 0 && result[0] > {limit!r}",
        "provider": {"prometheus": {"address": address, "query": query}},
    }


def _budget(
    svc: MonitoredService, kind: str, a: Analysis, address: str, count: int | None
) -> dict[str, Any]:
    """The error-budget gate: fails (no tolerance: a budget does not flap) when the service's
    budget left for one SLO is below the floor. A service without a budget yet (no user-facing
    request in the whole window) has spent none: it passes."""
    query = f'{BUDGET_REMAINING}{{{selector(svc)},slo="{kind}"}}'
    return {
        "name": BUDGET_METRIC.format(kind=kind),
        "interval": a.interval,
        **({"count": count} if count is not None else {}),
        "failureLimit": 0,
        "successCondition": f"len(result) == 0 || result[0] >= {a.budget_floor!r}",
        "failureCondition": f"len(result) > 0 && result[0] < {a.budget_floor!r}",
        "provider": {"prometheus": {"address": address, "query": query}},
    }


def analysis_metrics(
    svc: MonitoredService, track: str, a: Analysis, t: Thresholds, address: str
) -> list[dict[str, Any]]:
    sel = selector(svc, track=track)
    # The canary's background analysis runs as long as the release; the preview's must end.
    count = pre_promotion_count(a) if track == PREVIEW else None
    metrics = [
        _bounded(
            "error-ratio", error_ratio_expr(sel, a.window), a.error_ratio, a, address, count, track
        ),
        _bounded(
            "latency-p95",
            quantile_expr("95", sel, a.window),
            in_seconds(a.latency_p95),
            a,
            address,
            count,
            track,
        ),
    ]
    metrics += [_budget(svc, kind, a, address, count) for kind in SLO_KINDS]
    if track == CANARY:
        # The CanaryErrorRateAboveStable alert's expression: any result means it would fire.
        metrics.append(
            {
                "name": "error-ratio-vs-stable",
                "interval": go_duration(a.interval),
                **first_after(track, a),
                "failureLimit": a.failure_limit,
                "successCondition": "len(result) == 0",
                "provider": {
                    "prometheus": {"address": address, "query": canary_above_stable_expr(svc, t)}
                },
            }
        )
    return metrics


def analysis_template_manifest(
    svc: MonitoredService,
    track: str,
    a: Analysis,
    t: Thresholds,
    monitoring_namespace: str,
    labels: dict[str, str],
) -> dict[str, Any]:
    address = PROMETHEUS_URL.format(namespace=monitoring_namespace)
    metadata: dict[str, Any] = {
        "name": f"{svc.name}-{track}",
        "namespace": svc.namespace,
        "labels": labels,
    }
    spec: dict[str, Any] = {"metrics": analysis_metrics(svc, track, a, t, address)}
    if a.budget_override is not None:
        # Overridden: the budget is still measured and shown, its failure no longer counts.
        o = a.budget_override
        metadata["annotations"] = {BUDGET_OVERRIDE: f"until {o.expires}: {o.reason}"}
        spec["dryRun"] = [{"metricName": BUDGET_METRIC.format(kind=k)} for k in SLO_KINDS]
    return {
        "apiVersion": ROLLOUTS_API,
        "kind": "AnalysisTemplate",
        "metadata": metadata,
        "spec": spec,
    }
