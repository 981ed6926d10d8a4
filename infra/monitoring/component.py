"""The monitoring stack of a Kubernetes cluster, and each service's monitors, rules, dashboards."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.config.model import StackConfig
from infra.config.monitoring import Chart, MonitoringConfig
from infra.manifests.apply import apply_manifest
from infra.monitoring.dashboards import dashboard_configmap
from infra.monitoring.namespace import monitoring_namespace_manifest, monitoring_network_policies
from infra.monitoring.objects import prometheus_rule_manifest, service_monitor_manifest
from infra.monitoring.stack_values import (
    GRAFANA_ADMIN_SECRET,
    RECEIVERS_SECRET,
    RELEASE,
    alloy_values,
    kube_prometheus_stack_values,
    loki_values,
)
from infra.monitoring.target import monitored_services
from infra.secrets import resolve_secret


def _secret(name: str, namespace: str, data: dict[str, pulumi.Input[str]]) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "stringData": data,
    }


def _release(
    name: str,
    chart: Chart,
    namespace: str,
    values: dict[str, object],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    return k8s.helm.v3.Release(
        name,
        name=name,
        chart=chart.release_chart,
        version=chart.version,
        namespace=namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        opts=opts,
    )


class MonitoringStack(pulumi.ComponentResource):
    def __init__(
        self,
        config: StackConfig,
        monitoring: MonitoringConfig,
        app_namespaces: dict[str, pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("tbcoin:monitoring:MonitoringStack", monitoring.namespace, None, opts)
        m = monitoring
        child = pulumi.ResourceOptions(parent=self)
        namespace = apply_manifest(monitoring_namespace_manifest(m.namespace), child)
        inside = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        for policy in monitoring_network_policies(m.namespace):
            apply_manifest(policy, inside)
        secrets = [
            apply_manifest(
                _secret(
                    GRAFANA_ADMIN_SECRET,
                    m.namespace,
                    {
                        "admin-user": "admin",
                        "admin-password": resolve_secret(
                            config, m.grafana_admin, "monitoring.grafanaAdmin"
                        ),
                    },
                ),
                inside,
            )
        ]
        if m.alerting.receivers:
            secrets.append(
                apply_manifest(
                    _secret(
                        RECEIVERS_SECRET,
                        m.namespace,
                        {
                            r.name: resolve_secret(
                                config, r.secret, f"monitoring.alerting.{r.name}"
                            )
                            for r in m.alerting.receivers
                        },
                    ),
                    inside,
                )
            )
        stack = _release(
            RELEASE,
            m.chart,
            m.namespace,
            kube_prometheus_stack_values(m),
            pulumi.ResourceOptions(
                parent=self, depends_on=[namespace, *secrets], protect=m.protect
            ),
        )
        if m.loki.enabled:
            loki = _release("loki", m.loki.chart, m.namespace, loki_values(m), inside)
            _release(
                "alloy",
                m.loki.collector.chart,
                m.namespace,
                alloy_values(m),
                pulumi.ResourceOptions(parent=self, depends_on=[loki]),
            )
        app, metrics_path = config.app_name, config.metrics_path
        for svc in monitored_services(config):
            # ServiceMonitor and PrometheusRule are CRDs the chart installs: create them after it.
            crd_opts = pulumi.ResourceOptions(
                parent=self, depends_on=[stack, app_namespaces[svc.environment]]
            )
            apply_manifest(service_monitor_manifest(svc, app, metrics_path), crd_opts)
            apply_manifest(prometheus_rule_manifest(svc, m), crd_opts)
            apply_manifest(dashboard_configmap(svc, m), inside)
        self.register_outputs({"namespace": m.namespace})
