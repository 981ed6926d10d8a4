"""Helm values for kube-prometheus-stack, Loki and Alloy, built from typed config.

No value here is a credential: Grafana reads its admin login from the `grafana-admin` Secret and
Alertmanager reads receiver URLs and keys from files of the `alertmanager-receivers` Secret.
"""

from __future__ import annotations

from typing import Any

from infra.config.monitoring import MonitoringConfig, Receiver, prometheus_size

GRAFANA_ADMIN_SECRET = "grafana-admin"
RECEIVERS_SECRET = "alertmanager-receivers"
SECRETS_DIR = f"/etc/alertmanager/secrets/{RECEIVERS_SECRET}"
RELEASE = "kube-prometheus-stack"
# Prometheus loads the ServiceMonitors and PrometheusRules that carry the release label: the
# chart's own (kubelet/cAdvisor, kube-state-metrics, node-exporter and its rule groups) and this
# project's, which carry it too (`SELECTED_LABELS`). A label selector cannot OR two labels, so
# both sides share this one.
SELECTED_LABELS = {"release": RELEASE}
SELECTED = {"matchLabels": SELECTED_LABELS}
LOKI_URL = "http://loki-gateway.{namespace}.svc.cluster.local"


def _receiver(r: Receiver) -> dict[str, Any]:
    secret_file = f"{SECRETS_DIR}/{r.name}"
    if r.type == "slack":
        config: dict[str, Any] = {"api_url_file": secret_file, "send_resolved": True}
        if r.channel:
            config["channel"] = r.channel
        return {"name": r.name, "slack_configs": [config]}
    if r.type == "pagerduty":
        return {"name": r.name, "pagerduty_configs": [{"routing_key_file": secret_file}]}
    return {"name": r.name, "webhook_configs": [{"url_file": secret_file, "send_resolved": True}]}


def alertmanager_config(m: MonitoringConfig) -> dict[str, Any]:
    a = m.alerting
    receivers = [{"name": "null"}, *(_receiver(r) for r in a.receivers)]
    routes = [
        # Watchdog always fires by design and InfoInhibitor only exists to inhibit: neither pages.
        # No dead-man's-switch service is configured; to add one, route Watchdog to a webhook
        # receiver that alerts when the heartbeat stops.
        {"matchers": ['alertname=~"Watchdog|InfoInhibitor"'], "receiver": "null"},
        # Info-level alerts are context for other alerts, never a page on their own.
        {"matchers": ['severity="info"'], "receiver": "null"},
        *(
            {"matchers": [f'severity="{severity}"'], "receiver": receiver}
            for severity, receiver in sorted(a.routes.items())
        ),
    ]
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": a.default_receiver or "null",
            "group_by": ["alertname", "namespace", "app"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        # The chart's own defaults, which a config of our own replaces: a critical alert mutes
        # the same alert's warning, and InfoInhibitor mutes info alerts of its namespace.
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity=~"warning|info"'],
                "equal": ["namespace", "alertname"],
            },
            {
                "source_matchers": ['severity="warning"'],
                "target_matchers": ['severity="info"'],
                "equal": ["namespace", "alertname"],
            },
            {
                "source_matchers": ['alertname="InfoInhibitor"'],
                "target_matchers": ['severity="info"'],
                "equal": ["namespace"],
            },
        ],
        "receivers": receivers,
    }


def kube_prometheus_stack_values(m: MonitoringConfig) -> dict[str, Any]:
    prometheus = m.prometheus
    spec: dict[str, Any] = {
        "retention": prometheus.retention,
        "retentionSize": prometheus_size(prometheus.retention_size),
        "resources": prometheus.resources.model_dump(exclude_none=True),
        # Stated here rather than left to the chart's defaults: the wiring tests check them.
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
        "serviceMonitorSelector": SELECTED,
        "ruleSelector": SELECTED,
        "serviceMonitorNamespaceSelector": {},
        "ruleNamespaceSelector": {},
    }
    if prometheus.storage is not None:
        claim: dict[str, Any] = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": prometheus.storage.size}},
        }
        if prometheus.storage.storage_class:
            claim["storageClassName"] = prometheus.storage.storage_class
        spec["storageSpec"] = {"volumeClaimTemplate": {"spec": claim}}
        # Deleting or scaling the StatefulSet keeps the volume: metrics history survives.
        spec["persistentVolumeClaimRetentionPolicy"] = {
            "whenDeleted": "Retain",
            "whenScaled": "Retain",
        }
    grafana: dict[str, Any] = {
        "admin": {
            "existingSecret": GRAFANA_ADMIN_SECRET,
            "userKey": "admin-user",
            "passwordKey": "admin-password",
        },
        "sidecar": {
            "dashboards": {
                "enabled": True,
                "label": "grafana_dashboard",
                "labelValue": "1",
                "searchNamespace": "ALL",
            }
        },
    }
    if m.loki.enabled:
        grafana["additionalDataSources"] = [
            {
                "name": "Loki",
                "type": "loki",
                "uid": "loki",
                "access": "proxy",
                "url": LOKI_URL.format(namespace=m.namespace),
            }
        ]
    return {
        "prometheus": {"prometheusSpec": spec},
        "alertmanager": {
            "config": alertmanager_config(m),
            "alertmanagerSpec": {"secrets": [RECEIVERS_SECRET] if m.alerting.receivers else []},
        },
        "grafana": grafana,
    }


def loki_values(m: MonitoringConfig) -> dict[str, Any]:
    loki = m.loki
    return {
        "deploymentMode": "SingleBinary",
        "loki": {
            "auth_enabled": False,
            "commonConfig": {"replication_factor": 1},
            "storage": {"type": "filesystem"},
            "schemaConfig": {
                "configs": [
                    {
                        "from": "2024-04-01",
                        "store": "tsdb",
                        "object_store": "filesystem",
                        "schema": "v13",
                        "index": {"prefix": "index_", "period": "24h"},
                    }
                ]
            },
            "limits_config": {"retention_period": loki.retention},
            "compactor": {"retention_enabled": True, "delete_request_store": "filesystem"},
        },
        "singleBinary": {"replicas": 1, "persistence": {"size": loki.storage.size}},
        "backend": {"replicas": 0},
        "read": {"replicas": 0},
        "write": {"replicas": 0},
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
    }


def alloy_values(m: MonitoringConfig) -> dict[str, Any]:
    """Alloy on every node tails pod logs and ships them to Loki."""
    config = f"""discovery.kubernetes "pods" {{
  role = "pod"
}}

discovery.relabel "pods" {{
  targets = discovery.kubernetes.pods.targets
  rule {{
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }}
  rule {{
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }}
  rule {{
    source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_instance"]
    target_label  = "app"
  }}
  rule {{
    source_labels = ["__meta_kubernetes_pod_label_tbcoin_io_track"]
    target_label  = "track"
  }}
}}

loki.source.kubernetes "pods" {{
  targets    = discovery.relabel.pods.output
  forward_to = [loki.write.default.receiver]
}}

loki.write "default" {{
  endpoint {{
    url = "{LOKI_URL.format(namespace=m.namespace)}/loki/api/v1/push"
  }}
}}
"""
    return {"alloy": {"configMap": {"create": True, "content": config}}}
