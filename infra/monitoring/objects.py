"""Per-service monitoring objects: the ServiceMonitor that scrapes every track, and the
PrometheusRule with its recording rules and alerts."""

from __future__ import annotations

from typing import Any

from infra.config.monitoring import SCRAPE_INTERVAL, MonitoringConfig
from infra.manifests.labels import SCRAPE, common_labels, service_selector
from infra.manifests.network_policy import APP_PORT_NAME
from infra.monitoring.rules import prometheus_rule_spec, rule_group_name
from infra.monitoring.stack_values import SELECTED_LABELS
from infra.monitoring.target import MonitoredService

MONITORING_API = "monitoring.coreos.com/v1"


def _meta(svc: MonitoredService, name: str) -> dict[str, Any]:
    labels = {**common_labels(svc.environment), **SELECTED_LABELS}
    return {"name": name, "namespace": svc.namespace, "labels": labels}


def service_monitor_manifest(svc: MonitoredService, app: str, metrics_path: str) -> dict[str, Any]:
    return {
        "apiVersion": MONITORING_API,
        "kind": "ServiceMonitor",
        "metadata": _meta(svc, svc.name),
        "spec": {
            # The one Service that reaches every pod of the service once, whatever its track.
            "selector": {"matchLabels": {**service_selector(app, svc.name), SCRAPE: "true"}},
            "namespaceSelector": {"matchNames": [svc.namespace]},
            "endpoints": [
                {
                    "port": APP_PORT_NAME,
                    "path": metrics_path,
                    "interval": SCRAPE_INTERVAL,
                    "scrapeTimeout": "10s",
                    # `app` and `track` come from the pod, so a blue-green switch (which only
                    # changes Service selectors) never relabels history.
                    "relabelings": [
                        {
                            "sourceLabels": [
                                "__meta_kubernetes_pod_label_app_kubernetes_io_instance"
                            ],
                            "targetLabel": "app",
                        },
                        {
                            "sourceLabels": ["__meta_kubernetes_pod_label_tbcoin_io_track"],
                            "targetLabel": "track",
                        },
                    ],
                }
            ],
        },
    }


def prometheus_rule_manifest(svc: MonitoredService, m: MonitoringConfig) -> dict[str, Any]:
    return {
        "apiVersion": MONITORING_API,
        "kind": "PrometheusRule",
        "metadata": _meta(svc, rule_group_name(svc)),
        "spec": prometheus_rule_spec(svc, m),
    }
