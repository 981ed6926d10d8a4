"""Monitoring: every service is scraped and alerted on, credentials stay out of Helm values, and
production metrics survive any `pulumi up`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity

from secret_patterns.names import is_credential_name
from tbcoin_policies.common import (
    NotWaivable,
    Waivable,
    dig,
    floor_default,
    labels_match,
    namespace_of,
    of_type,
    project_rule,
    resource_policy,
    stack_policy,
)

AREA = "monitoring"
RETAINED = "monitoring-storage-retained"
SERVICE = "kubernetes:core/v1:Service"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
APP_INSTANCE = "app.kubernetes.io/instance"


def _app_services(resources: list[PolicyResource]) -> list[PolicyResource]:
    """Services of the app: those carrying the app.kubernetes.io/instance label."""
    return [
        s for s in of_type(resources, SERVICE) if dig(s.props, "metadata", "labels", APP_INSTANCE)
    ]


def _alert_rules(rule: PolicyResource) -> list[Mapping[str, Any]]:
    return [
        r
        for g in dig(rule.props, "spec", "groups", default=[])
        for r in g.get("rules", [])
        if r.get("alert")
    ]


def _coverage(resources: list[PolicyResource], _: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    monitors = of_type(resources, SERVICE_MONITOR)
    rules = of_type(resources, PROMETHEUS_RULE)
    services = _app_services(resources)

    def scraped(s: PolicyResource) -> bool:
        labels = dig(s.props, "metadata", "labels", default={})
        return any(
            namespace_of(m) == namespace_of(s)
            and labels_match(dig(m.props, "spec", "selector", "matchLabels", default={}), labels)
            for m in monitors
        )

    def instance(s: PolicyResource) -> tuple[str, Any]:
        return namespace_of(s), dig(s.props, "metadata", "labels", APP_INSTANCE)

    # One Service per app instance is scraped (the one that reaches every pod once).
    covered = {instance(s) for s in services if scraped(s)}
    for s in services:
        name = dig(s.props, "metadata", "name")
        labels = dig(s.props, "metadata", "labels", default={})
        if instance(s) not in covered:
            yield f"Service '{name}' is scraped by no ServiceMonitor.", s.urn
        app = labels.get(APP_INSTANCE)
        alerts = [
            a for r in rules if namespace_of(r) == namespace_of(s) for a in _alert_rules(r)
            if dig(a, "labels", "app") == app
        ]  # fmt: skip
        exprs = " ".join(str(a.get("expr", "")) for a in alerts)
        if "http_request_duration" not in exprs and "p95" not in exprs:
            yield f"Service '{name}' has no latency alert.", s.urn
        if "error_ratio" not in exprs and "5.." not in exprs:
            yield f"Service '{name}' has no error-rate alert.", s.urn
        for a in alerts:
            if not dig(a, "annotations", "runbook_url"):
                yield f"Alert {a.get('alert')} of '{app}' has no runbook_url.", s.urn


service_coverage = stack_policy(
    "monitoring-service-coverage",
    area=AREA,
    description="Every service is scraped and has latency and error alerts with runbooks.",
    severity=Severity.HIGH,
    standard=project_rule("observability"),
    remediation="declare tbcoin-platform:monitoring; the monitoring stack adds a ServiceMonitor, "
    "a PrometheusRule and a dashboard per service.",
    check=_coverage,
    waiver=Waivable(
        "a new service may ship before its alerts are tuned; the waiver keeps the gap visible "
        "and dated."
    ),
)


def _credentials(node: Any, path: str = "") -> Iterable[str]:
    # The pack hands over read-only proxies: Mapping and Sequence, not dict and list.
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(value, str) and value and is_credential_name(str(key)):
                yield here
            yield from _credentials(value, here)
    elif isinstance(node, Sequence) and not isinstance(node, str):
        for i, item in enumerate(node):
            yield from _credentials(item, f"{path}[{i}]")


def _plain_values(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterable[str]:
    for path in _credentials(args.props.get("values") or {}):
        yield f"Helm value {path} holds a credential in plain text."


helm_values_no_credentials = resource_policy(
    "monitoring-no-credentials-in-helm-values",
    area=AREA,
    description="No credential is passed to a Helm chart as a plain value.",
    severity=Severity.CRITICAL,
    standard=project_rule("secrets-in-secrets"),
    remediation="put the credential in a Kubernetes Secret (from a SecretRef) and point the chart "
    "at it (existingSecret, *_file).",
    types=(HELM_RELEASE,),
    check=_plain_values,
    waiver=NotWaivable(
        "a credential in plain values is kept in state and in the release's Secret; an expiry "
        "date does not un-leak it."
    ),
)


def _retained(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterable[str]:
    if args.props.get("name") != "kube-prometheus-stack" or not config.get(
        "requireRetention", floor_default(RETAINED, "requireRetention")
    ):
        return
    spec = dig(args.props, "values", "prometheus", "prometheusSpec", default={})
    if not args.opts.protect:
        yield "The monitoring release is not protected: a config change could delete it."
    if not dig(spec, "storageSpec", "volumeClaimTemplate"):
        yield "Prometheus keeps metrics on the pod only (no persistent volume)."
    elif dig(spec, "persistentVolumeClaimRetentionPolicy", "whenDeleted") != "Retain":
        yield "Prometheus' volume is deleted with its StatefulSet."


storage_retained = resource_policy(
    RETAINED,
    area=AREA,
    description="Production metrics history survives any `pulumi up`.",
    severity=Severity.HIGH,
    standard=project_rule("metrics-retention"),
    remediation="set monitoring.prometheus.storage and monitoring.protect: true in the "
    "production stack.",
    types=(HELM_RELEASE,),
    check=_retained,
    waiver=NotWaivable(
        "a floor parameter on prod: metrics history deleted meanwhile is not restored when a "
        "waiver expires."
    ),
    properties={
        "requireRetention": {
            "type": "boolean",
            "default": floor_default(RETAINED, "requireRetention"),
            "description": "Whether Prometheus' metrics must survive a restart and a deleted "
            "release (persistent, retained volume; protected release).",
        }
    },
)

POLICIES = [service_coverage, helm_values_no_credentials, storage_retained]
