"""Envoy Gateway's namespace as the program's own (issue 35.7): created by the program with Pod
Security labels, denied by default, and open only where the gateway needs it. Judged on the
chart's rendered controller next to the program's policies (tests/network_flows.py), with the
proxies and certgen pods as Envoy Gateway and the chart label them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from infra.kubernetes.gateway_controller import CERTGEN, PROXIES, XDS_PORTS
from infractl.policy.charts import Obj
from tests.network_flows import Pod, flow_allowed, of, pods
from tests.test_monitoring_deployed import deployed

NAMESPACE = "envoy-gateway-system"


@pytest.fixture(scope="module")
def objects(synthesized: Callable[[str], Path]) -> list[Obj]:
    return deployed(synthesized("prod"))


def _pod(objects: list[Obj], namespace: str, name: str) -> Pod:
    (pod,) = [p for p in pods(objects) if p.namespace == namespace and name in p.name]
    return pod


def _proxy() -> Pod:
    return Pod("proxy", NAMESPACE, {**PROXIES, "gateway.envoyproxy.io/owning-gateway-name": "x"},
               {"http": 10080, "admin": 19000})  # fmt: skip


def _flows(objects: list[Obj]) -> dict[str, bool]:
    controller = _pod(objects, NAMESPACE, "envoy-gateway")
    app = _pod(objects, "tbcoin-prod", "api")
    # A client in the cluster whose own namespace lets it out (monitoring's egress is open).
    client = _pod(objects, "monitoring", "grafana")
    certgen = Pod("certgen", NAMESPACE, CERTGEN, {})
    proxy = _proxy()
    xds = {f"proxy -> controller {n}": flow_allowed(objects, proxy, controller, n)
           for n in XDS_PORTS}  # fmt: skip
    return {
        **xds,
        "proxy -> app": flow_allowed(objects, proxy, app, "http"),
        "a client -> proxy": flow_allowed(objects, client, proxy, 10080),
        "controller -> API server": flow_allowed(objects, controller, None, 6443),
        "certgen -> API server": flow_allowed(objects, certgen, None, 443),
        # What stays closed.
        "a client -> controller xDS": flow_allowed(objects, client, controller, 18000),
        "controller -> elsewhere": flow_allowed(objects, controller, None, 8080),
        "certgen -> elsewhere": flow_allowed(objects, certgen, None, 8080),
        "app -> certgen": flow_allowed(objects, app, certgen, 8080),
    }


OPEN = {f"proxy -> controller {p}" for p in XDS_PORTS} | {
    "proxy -> app",
    "a client -> proxy",
    "controller -> API server",
    "certgen -> API server",
}


def test_the_gateway_namespace_is_labelled_and_created_before_the_chart(objects: list[Obj]) -> None:
    (namespace,) = [n for n in of(objects, "Namespace") if n["metadata"]["name"] == NAMESPACE]
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_the_gateway_namespace_is_open_only_where_the_gateway_needs_it(objects: list[Obj]) -> None:
    flows = _flows(objects)
    assert {what for what, allowed in flows.items() if allowed} == OPEN


def test_without_the_controller_policy_the_proxies_lose_their_configuration(
    objects: list[Obj],
) -> None:
    """Mutation: the default deny alone closes xDS, so the check above is not vacuous."""
    without = [o for o in objects if not (o["kind"] == "NetworkPolicy"
               and o["metadata"]["namespace"] == NAMESPACE
               and o["metadata"]["name"] == "controller")]  # fmt: skip
    flows = _flows(without)
    assert not any(flows[f"proxy -> controller {p}"] for p in XDS_PORTS)
    assert not flows["controller -> API server"]
