"""One Grafana dashboard per service, built with grafana-foundation-sdk: rate, errors, duration
and saturation, every panel split by track so canary and stable (or blue and green) sit side by
side. Delivered as a ConfigMap the Grafana sidecar loads."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from infra.config.base import in_seconds
from infra.config.monitoring import MonitoringConfig
from infra.manifests.labels import common_labels
from infra.monitoring.rules import ERROR_RATIO, QUANTILE, REQUESTS
from infra.monitoring.target import MonitoredService
from infra.release import ROLLOUT

# The datasource kube-prometheus-stack provisions for its own Prometheus.
PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")
SIDECAR_LABEL = "grafana_dashboard"


def _panel(title: str, unit: str, *queries: tuple[str, str], description: str = "") -> Any:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(PROMETHEUS)
        .height(8)
        .span(12)
    )
    for ref, (expr, legend) in zip("ABCDEFGH", queries, strict=False):
        panel = panel.with_target(
            prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref)
        )
    return panel


def _replica_queries(svc: MonitoredService) -> list[tuple[str, str]]:
    """Available and unavailable replicas: kube-state-metrics knows Deployments; a Rollout's come
    from the Argo Rollouts controller."""
    if svc.kind == ROLLOUT:
        sel = f'namespace="{svc.namespace}",name="{svc.workload}"'
        return [
            (f"rollout_info_replicas_available{{{sel}}}", "{{name}}"),
            (f"rollout_info_replicas_unavailable{{{sel}}}", "{{name}} unavailable"),
        ]
    sel = f'namespace="{svc.namespace}",deployment=~"{svc.deployment_regex}"'
    return [
        (f"kube_deployment_status_replicas_available{{{sel}}}", "{{deployment}}"),
        (f"kube_deployment_status_replicas_unavailable{{{sel}}}", "{{deployment}} unavailable"),
    ]


def service_dashboard(svc: MonitoredService, m: MonitoringConfig) -> dict[str, Any]:
    sel = f'namespace="{svc.namespace}",app="{svc.name}"'
    pods = f'namespace="{svc.namespace}",pod=~"{svc.pod_regex}",container="app"'
    board = (
        dashboard.Dashboard(f"{svc.name} ({svc.environment})")
        .uid(f"tbcoin-{svc.namespace}-{svc.name}"[:40])
        .tags(["tbcoin-platform", svc.environment, svc.name])
        .refresh("30s")
        .time("now-3h", "now")
        .timezone("utc")
        .editable()
        .with_row(dashboard.Row("Traffic and errors, by track"))
        .with_panel(
            _panel("Request rate", "reqps", (f"{REQUESTS.format(w='5m')}{{{sel}}}", "{{track}}"))
        )
        .with_panel(
            _panel(
                "Error ratio (5xx)",
                "percentunit",
                (f"{ERROR_RATIO.format(w='5m')}{{{sel}}}", "{{track}}"),
                (f"vector({m.thresholds.error_ratio})", "alert threshold"),
            )
        )
        .with_row(dashboard.Row("Duration, by track"))
        .with_panel(
            _panel(
                "p95 latency",
                "s",
                (f"{QUANTILE.format(q='95')}{{{sel}}}", "{{track}}"),
                (f"vector({in_seconds(m.thresholds.latency_p95)})", "alert threshold"),
            )
        )
        .with_panel(
            _panel(
                "p99 latency",
                "s",
                (f"{QUANTILE.format(q='99')}{{{sel}}}", "{{track}}"),
                (f"vector({in_seconds(m.thresholds.latency_p99)})", "alert threshold"),
            )
        )
        .with_row(dashboard.Row("Saturation"))
        .with_panel(
            _panel(
                "CPU used of limit",
                "percentunit",
                (
                    f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{pods}}}[5m])) / "
                    f'sum by (pod) (kube_pod_container_resource_limits{{{pods},resource="cpu"}})',
                    "{{pod}}",
                ),
            )
        )
        .with_panel(
            _panel(
                "Memory used of limit",
                "percentunit",
                (
                    f"sum by (pod) (container_memory_working_set_bytes{{{pods}}}) / "
                    "sum by (pod) (kube_pod_container_resource_limits"
                    f'{{{pods},resource="memory"}})',
                    "{{pod}}",
                ),
            )
        )
        .with_panel(
            _panel(
                "Available replicas",
                "short",
                *_replica_queries(svc),
            )
        )
        .with_panel(
            _panel(
                "Restarts (1h)",
                "short",
                (
                    "sum by (pod) (increase(kube_pod_container_status_restarts_total"
                    f"{{{pods}}}[1h]))",
                    "{{pod}}",
                ),
            )
        )
    )
    document: dict[str, Any] = json.loads(JSONEncoder(sort_keys=True).encode(board.build()))
    return document


def dashboard_configmap(svc: MonitoredService, m: MonitoringConfig) -> dict[str, Any]:
    board = service_dashboard(svc, m)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"dashboard-{svc.namespace}-{svc.name}",
            "namespace": m.namespace,
            "labels": {**common_labels(svc.environment), SIDECAR_LABEL: "1"},
        },
        "data": {f"{svc.namespace}-{svc.name}.json": json.dumps(board, indent=2, sort_keys=True)},
    }
