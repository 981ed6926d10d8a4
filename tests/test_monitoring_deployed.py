"""Monitoring as deployed: the pinned charts, rendered with the values the program declares, next
to the project's own objects. Prometheus loads what the alerts need, every metric has a producer
it scrapes, Alertmanager routes every alert where the stack intends, Grafana's dashboards name
datasources it has."""

from __future__ import annotations

import base64
import copy
import functools
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import promql_parser
import pytest
import yaml

from infractl.policy.charts import HELM_RELEASE, Obj, describe
from tests.charts import render_release, selects
from tests.conftest import REPO, manifests, resources
from tests.network_flows import (
    Pod,
    backs,
    flow_allowed,
    labels,
    namespace,
    namespace_labels,
    of,
    pods,
    service_pods,
)

STACKS = ["staging", "prod"]
KPS = "kube-prometheus-stack"

# What each scraped target exposes, by metric name. The app's contract is the
# prometheus-fastapi-instrumentator defaults the rules are written against; the exporters' names
# follow their documented metric families (offline, no exporter runs here).
APP_CONTRACT = re.compile(r"http_requests_total|http_request_duration_highr_seconds_(bucket|count)")
CHART_PRODUCERS: dict[str, re.Pattern[str]] = {
    "kubelet /metrics/cadvisor": re.compile(r"(container|machine)_.+"),
    "kubelet /metrics": re.compile(r"(kubelet|kubernetes|volume_manager|storage_operation)_.+"),
    "kubelet /metrics/probes": re.compile(r"prober_.+"),
    "kube-state-metrics": re.compile(r"kube_.+"),
    "prometheus-node-exporter": re.compile(r"node_.+"),
    # Both also scrape their config-reloader sidecar.
    "prometheus": re.compile(r"(prometheus|reloader)_.+"),
    "alertmanager": re.compile(r"(alertmanager|reloader)_.+"),
    "operator": re.compile(r"prometheus_operator_.+"),
    "apiserver": re.compile(r"(apiserver|aggregator|etcd|workqueue|authentication)_.+"),
    "coredns": re.compile(r"coredns_.+"),
    "kube-controller-manager": re.compile(r"(workqueue|rest_client)_.+"),
    "kube-scheduler": re.compile(r"scheduler_.+"),
    "kube-proxy": re.compile(r"kubeproxy_.+"),
    "kube-etcd": re.compile(r"(etcd|grpc_server)_.+"),
    "grafana": re.compile(r"grafana_.+"),
    # The Argo Rollouts controller (its docs' controller-metrics list).
    "argo-rollouts": re.compile(r"(rollout|analysis_run|experiment|controller)_.+"),
}
# Series Prometheus writes itself: per target (`up`, `scrape_*`), for every client library
# (`process_*`, `go_*`) and for its alerts.
PROMETHEUS_SERIES = re.compile(r"up|scrape_.+|process_.+|go_.+|ALERTS|ALERTS_FOR_STATE")


@functools.cache
def _deployed(out: Path) -> tuple[Obj, ...]:
    objects = list(manifests(out))
    for release in resources(out):
        if release["type"] == HELM_RELEASE:
            objects += render_release(release)
    return tuple(objects)


def deployed(out: Path) -> list[Obj]:
    """The project's objects and every chart's rendered objects: what `pulumi up` would create."""
    return copy.deepcopy(list(_deployed(out)))


def prometheus(objects: list[Obj]) -> Obj:
    (found,) = of(objects, "Prometheus")
    return found


def loaded(objects: list[Obj], kind: str, selector: str) -> list[Obj]:
    """The ServiceMonitors or PrometheusRules the Prometheus CR selects, by label and namespace."""
    spec = prometheus(objects)["spec"]
    # An absent namespace selector means the Prometheus object's own namespace only.
    ns_selector = spec.get(f"{selector}NamespaceSelector")
    own = namespace(prometheus(objects))
    return [
        o
        for o in of(objects, kind)
        if selects(spec.get(f"{selector}Selector"), labels(o))
        and (
            namespace(o) == own
            if ns_selector is None
            else selects(ns_selector, namespace_labels(objects, namespace(o)))
        )
    ]


def _chart_monitor(monitor: Obj) -> str:
    return monitor["metadata"]["name"].removeprefix(f"{KPS}-")


# ---- Prometheus loads what the alerts need ----


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_loads_the_project_and_chart_monitors_and_rules(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    objects = deployed(synthesized(stack))
    monitors = {
        (namespace(m), m["metadata"]["name"])
        for m in loaded(objects, "ServiceMonitor", "serviceMonitor")
    }
    project = {
        (namespace(m), m["metadata"]["name"])
        for m in manifests(synthesized(stack))
        if m["kind"] == "ServiceMonitor"
    }
    assert project and project <= monitors
    for chart in ("kubelet", "kube-state-metrics", "prometheus-node-exporter"):
        assert ("monitoring", f"{KPS}-{chart}") in monitors, chart
    rules = loaded(objects, "PrometheusRule", "rule")
    assert {describe(r) for r in of(objects, "PrometheusRule")} == {describe(r) for r in rules}
    alerts = {
        r["alert"] for o in rules for g in o["spec"]["groups"] for r in g["rules"] if "alert" in r
    }
    assert {
        "Watchdog",
        "CpuThrottled",
        "KubePodCrashLooping",
        "NodeFilesystemSpaceFillingUp",
    } <= alerts


def test_label_selectors_follow_kubernetes_semantics() -> None:
    pod = {"app": "a", "tier": "web"}
    assert selects({}, pod) and not selects(None, pod)
    assert selects({"matchLabels": {"app": "a"}}, pod)
    assert not selects({"matchLabels": {"app": "a", "tier": "db"}}, pod)
    expressions = [
        ({"key": "tier", "operator": "In", "values": ["web", "db"]}, True),
        ({"key": "tier", "operator": "NotIn", "values": ["web"]}, False),
        ({"key": "zone", "operator": "NotIn", "values": ["x"]}, True),
        ({"key": "app", "operator": "Exists"}, True),
        ({"key": "app", "operator": "DoesNotExist"}, False),
    ]
    for expression, expected in expressions:
        assert selects({"matchExpressions": [expression]}, pod) is expected, expression
    assert not selects({"matchLabels": {"app": "a"}, "matchExpressions": [expressions[1][0]]}, pod)


# ---- metric provenance ----


def _template_free(expr: str) -> str:
    """Grafana variables replaced by values PromQL accepts, so the query parses."""
    expr = re.sub(r"\$__(rate_)?interval|\$__range", "5m", expr)
    return re.sub(r"\$\{?(\w+)(:\w+)?\}?", r"\1", expr)


def metric_names(expr: str) -> set[str]:
    """Metric names an expression reads, from PromQL's own parser."""
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = {m.name: m.value for m in node.matchers.matchers}
            names.add(node.name or matchers.get("__name__", ""))

    promql_parser.walk(promql_parser.parse(_template_free(expr)), visit)
    return names - {""}


def _queries(objects: list[Obj]) -> Iterator[tuple[str, str]]:
    """(where, expression) for every rule and every dashboard panel query."""
    for rule_object in of(objects, "PrometheusRule"):
        for group in rule_object["spec"]["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                yield f"{describe(rule_object)}: {name}", rule["expr"]
    for config_map in of(objects, "ConfigMap"):
        if labels(config_map).get("grafana_dashboard") != "1":
            continue
        for key, text in (config_map.get("data") or {}).items():
            board = json.loads(text)
            panels = [
                *board.get("panels", []),
                *(p for r in board.get("rows", []) for p in r.get("panels", [])),
            ]
            for panel in panels:
                for target in panel.get("targets", []):
                    if target.get("expr"):
                        yield f"dashboard {key}: panel {panel.get('title')!r}", target["expr"]


def _producers(objects: list[Obj]) -> list[re.Pattern[str]]:
    """Metric-name patterns of every target the rendered Prometheus scrapes."""
    app_services = [
        s
        for s in of(objects, "Service")
        if labels(s).get("app.kubernetes.io/part-of") == "tbcoin-platform"
    ]
    found = []
    for monitor in loaded(objects, "ServiceMonitor", "serviceMonitor"):
        spec = monitor["spec"]
        if any(selects(spec["selector"], labels(s)) for s in app_services):
            found.append(APP_CONTRACT)
            continue
        chart = _chart_monitor(monitor)
        for endpoint in spec["endpoints"]:
            path = endpoint.get("path", "/metrics")
            key = f"{chart} {path}" if chart == "kubelet" else chart
            if key in CHART_PRODUCERS:
                found.append(CHART_PRODUCERS[key])
    if found:
        found.append(PROMETHEUS_SERIES)
    return found


def provenance_gaps(objects: list[Obj]) -> list[str]:
    producers = _producers(objects)
    rules = loaded(objects, "PrometheusRule", "rule")
    recorded = {
        r["record"] for o in rules for g in o["spec"]["groups"] for r in g["rules"] if "record" in r
    }
    gaps = []
    for where, expr in _queries(objects):
        for metric in sorted(metric_names(expr)):
            if metric not in recorded and not any(p.fullmatch(metric) for p in producers):
                gaps.append(f"{where}: {metric} has no producer the rendered Prometheus scrapes")
    return gaps


@pytest.mark.parametrize("stack", STACKS)
def test_every_metric_has_a_producer_prometheus_scrapes(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    objects = deployed(synthesized(stack))
    assert len(list(_queries(objects))) > 500  # the chart's rules and dashboards are included
    assert provenance_gaps(objects) == []


def test_deselecting_the_kubelet_monitor_leaves_the_container_alerts_without_data(
    synthesized: Callable[[str], Path],
) -> None:
    objects = deployed(synthesized("prod"))
    (kubelet,) = [m for m in of(objects, "ServiceMonitor") if _chart_monitor(m) == "kubelet"]
    kubelet["metadata"]["labels"].pop("release")
    gaps = "\n".join(provenance_gaps(objects))
    assert "CpuThrottled: container_cpu_cfs_periods_total has no producer" in gaps
    assert "MemoryNearLimit: container_memory_working_set_bytes has no producer" in gaps


def test_metric_names_come_from_the_promql_parser() -> None:
    expr = (
        'sum by (le) (rate(a{x="y"}[5m])) / on (i) group_left () b > 3 and absent({__name__="c"})'
    )
    assert metric_names(expr) == {"a", "b", "c"}
    assert metric_names('rate(d{cluster="$cluster"}[$__rate_interval])') == {"d"}


# ---- Alertmanager ----


def _amtool() -> str:
    path = os.environ.get("AMTOOL") or str(REPO / ".tools/alertmanager/usr/bin/amtool")
    assert Path(path).exists(), f"amtool not installed at {path}: run `make tools`"
    return str(Path(path).resolve())


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_amtool(), *args], capture_output=True, text=True, timeout=60)


def alertmanager_config(objects: list[Obj], folder: Path) -> Path:
    """The config file the chart's Secret gives Alertmanager, written to `folder`."""
    name = f"alertmanager-{KPS}-alertmanager"
    (secret,) = [s for s in of(objects, "Secret") if s["metadata"]["name"] == name]
    path = folder / "alertmanager.yaml"
    path.write_bytes(base64.b64decode(secret["data"]["alertmanager.yaml"]))
    return path


# Where each stack's config means an alert to go, by severity; Watchdog, InfoInhibitor and info
# alerts go nowhere (see alertmanager_config in infra/monitoring/stack_values.py).
INTENDED = {
    "prod": {"critical": "oncall", "warning": "team-slack", "none": "team-slack"},
    "staging": {"critical": "team-slack", "warning": "team-slack", "none": "team-slack"},
}
SILENT = {"Watchdog", "InfoInhibitor"}


def intended(stack: str, alert: dict[str, str]) -> str:
    if alert["alertname"] in SILENT or alert["severity"] == "info":
        return "null"
    return INTENDED[stack][alert["severity"]]


def raised_alerts(objects: list[Obj]) -> list[dict[str, str]]:
    """The label set of every alert the loaded rules can raise (static labels only)."""
    found = {
        json.dumps({**rule.get("labels", {}), "alertname": rule["alert"]}, sort_keys=True)
        for o in loaded(objects, "PrometheusRule", "rule")
        for group in o["spec"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    return [json.loads(a) for a in sorted(found)]


def routes(config: Path, alerts: list[dict[str, str]]) -> list[str]:
    """The receiver amtool's own routing tree resolves for each alert."""

    def one(alert: dict[str, str]) -> str:
        proc = amtool(
            "config", "routes", "test", f"--config.file={config}",
            *(f"{k}={v}" for k, v in alert.items()),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, alerts))


@pytest.mark.parametrize("stack", STACKS)
def test_alertmanager_config_passes_amtool(
    stack: str, synthesized: Callable[[str], Path], tmp_path: Path
) -> None:
    proc = amtool("check-config", str(alertmanager_config(deployed(synthesized(stack)), tmp_path)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 inhibit rules" in proc.stdout


@pytest.mark.parametrize("stack", STACKS)
def test_every_alert_reaches_the_receiver_its_stack_intends(
    stack: str, synthesized: Callable[[str], Path], tmp_path: Path
) -> None:
    objects = deployed(synthesized(stack))
    alerts = raised_alerts(objects)
    names = {a["alertname"] for a in alerts}
    assert {"Watchdog", "InfoInhibitor", "CpuThrottled", "KubeletDown"} <= names
    got = routes(alertmanager_config(objects, tmp_path), alerts)
    wrong = [
        f"{a['alertname']} ({a['severity']}): {receiver}, meant {intended(stack, a)}"
        for a, receiver in zip(alerts, got, strict=True)
        if receiver != intended(stack, a)
    ]
    assert wrong == [], "\n".join(wrong)


def test_the_route_test_can_fail(synthesized: Callable[[str], Path], tmp_path: Path) -> None:
    """Without the Watchdog route, Watchdog pages whoever has warnings."""
    objects = deployed(synthesized("prod"))
    config = alertmanager_config(objects, tmp_path)
    document = yaml.safe_load(config.read_text())
    document["route"]["routes"].pop(0)
    config.write_text(yaml.safe_dump(document))
    assert routes(config, [{"alertname": "Watchdog", "severity": "none"}]) == ["team-slack"]
    broken = tmp_path / "broken.yaml"
    broken.write_text(config.read_text().replace("receiver: oncall", "receiver: nobody"))
    assert amtool("check-config", str(broken)).returncode != 0


# ---- Grafana ----


def datasource_uids(objects: list[Obj]) -> set[str]:
    """Datasources Grafana provisions from the chart's datasource ConfigMaps."""
    return {
        source["uid"]
        for cm in of(objects, "ConfigMap")
        if labels(cm).get("grafana_datasource") == "1"
        for text in (cm.get("data") or {}).values()
        for source in yaml.safe_load(text).get("datasources", [])
    }


def _datasource_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("datasource")
        if isinstance(ref, dict) and isinstance(ref.get("uid"), str):
            yield ref["uid"]
        for value in node.values():
            yield from _datasource_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _datasource_refs(value)


@pytest.mark.parametrize("stack", STACKS)
def test_every_project_dashboard_names_a_datasource_grafana_has(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    objects = deployed(synthesized(stack))
    uids = datasource_uids(objects)
    assert "prometheus" in uids and ("loki" in uids) == (stack == "prod")
    boards = [
        cm for cm in manifests(synthesized(stack)) if labels(cm).get("grafana_dashboard") == "1"
    ]
    assert boards
    for board in boards:
        for text in board["data"].values():
            refs = set(_datasource_refs(json.loads(text)))
            assert refs and refs <= uids, f"{describe(board)}: {refs - uids}"


# ---- NetworkPolicies (tests/network_flows.py evaluates them) ----


def needed_flows(objects: list[Obj]) -> list[tuple[str, Pod, Pod | None, int | str]]:
    """Every connection the monitoring stack makes, read from the rendered configuration."""
    all_pods = pods(objects)

    def one(match: dict[str, str]) -> Pod:
        (pod,) = [p for p in all_pods if selects({"matchLabels": match}, p.labels)]
        return pod

    prom = one({"app.kubernetes.io/name": "prometheus"})
    flows: list[tuple[str, Pod, Pod | None, int | str]] = []
    services = of(objects, "Service")
    for monitor in loaded(objects, "ServiceMonitor", "serviceMonitor"):
        spec = monitor["spec"]
        names = spec.get("namespaceSelector", {}).get("matchNames") or [namespace(monitor)]
        for service in services:
            if namespace(service) in names and selects(spec["selector"], labels(service)):
                for endpoint in spec["endpoints"]:
                    (entry,) = [
                        p for p in service["spec"]["ports"] if p.get("name") == endpoint["port"]
                    ]
                    target = entry.get("targetPort", entry["port"])
                    for pod in all_pods:
                        if backs(service, pod):
                            flows.append(
                                (f"Prometheus scrapes {describe(monitor)}", prom, pod, target)
                            )
    for am in prometheus(objects)["spec"]["alerting"]["alertmanagers"]:
        flows.append(
            (
                "Prometheus -> Alertmanager",
                prom,
                one({"app.kubernetes.io/name": "alertmanager"}),
                am["port"],
            )
        )
    grafana = one({"app.kubernetes.io/name": "grafana"})
    for cm in of(objects, "ConfigMap"):
        if labels(cm).get("grafana_datasource") == "1":
            for text in cm["data"].values():
                for source in yaml.safe_load(text)["datasources"]:
                    url = urlsplit(source["url"])
                    for pod, port in service_pods(
                        objects, all_pods, url.hostname or "", url.port or 80
                    ):
                        flows.append((f"Grafana -> {source['name']}", grafana, pod, port))
    for cm in of(objects, "ConfigMap"):
        if "config.alloy" in (cm.get("data") or {}):
            alloy = one({"app.kubernetes.io/name": "alloy"})
            for url in re.findall(r'url\s*=\s*"([^"]+)"', cm["data"]["config.alloy"]):
                parts = urlsplit(url)
                for pod, port in service_pods(
                    objects, all_pods, parts.hostname or "", parts.port or 80
                ):
                    flows.append(("Alloy -> Loki", alloy, pod, port))
    for template in of(objects, "AnalysisTemplate"):
        controller = one({"app.kubernetes.io/component": "rollouts-controller"})
        for metric in template["spec"]["metrics"]:
            url = urlsplit(metric["provider"]["prometheus"]["address"])
            for pod, port in service_pods(objects, all_pods, url.hostname or "", url.port or 80):
                what = f"Argo Rollouts analysis {describe(template)}"
                flows.append((what, controller, pod, port))
    alertmanager = one({"app.kubernetes.io/name": "alertmanager"})
    flows.append(("Alertmanager -> receivers (HTTPS)", alertmanager, None, 443))
    return flows


@pytest.mark.parametrize("stack", STACKS)
def test_network_policies_allow_every_flow_monitoring_needs(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    objects = deployed(synthesized(stack))
    flows = needed_flows(objects)
    described = {what for what, *_ in flows}
    assert any("Prometheus scrapes ServiceMonitor tbcoin-" in w for w in described)
    assert {"Prometheus -> Alertmanager", "Grafana -> Prometheus"} <= described
    assert any(w.startswith("Argo Rollouts analysis AnalysisTemplate") for w in described)
    if stack == "prod":
        assert {"Grafana -> Loki", "Alloy -> Loki"} <= described
    blocked = [
        f"{what}: {src.name} -> {dst.name if dst else 'outside'}:{port}"
        for what, src, dst, port in flows
        if not flow_allowed(objects, src, dst, port)
    ]
    assert blocked == [], "\n".join(blocked)


def test_the_flow_check_fails_without_the_scrape_policy(synthesized: Callable[[str], Path]) -> None:
    objects = [
        o for o in deployed(synthesized("prod"))
        if not (o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "allow-prometheus-scrape")
    ]  # fmt: skip
    blocked = {
        what
        for what, src, dst, port in needed_flows(objects)
        if not flow_allowed(objects, src, dst, port)
    }
    assert blocked and all(
        w.startswith("Prometheus scrapes ServiceMonitor tbcoin-prod/") for w in blocked
    )
