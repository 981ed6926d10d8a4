"""Kubernetes NetworkPolicy semantics over rendered objects, for the tests: the pods the
workloads and operator objects run, and whether a policy set lets one pod reach another on a
port (both ends' policies: egress of the source, ingress of the destination)."""

from __future__ import annotations

from dataclasses import dataclass

from infractl.policy.charts import Obj, describe
from tests.charts import selects


def labels(obj: Obj) -> dict[str, str]:
    return dict(obj.get("metadata", {}).get("labels") or {})


def namespace(obj: Obj) -> str:
    return str(obj["metadata"].get("namespace", ""))


def of(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def namespace_labels(objects: list[Obj], name: str) -> dict[str, str]:
    # The API server labels every Namespace with its name.
    found = next((labels(o) for o in of(objects, "Namespace") if o["metadata"]["name"] == name), {})
    return {**found, "kubernetes.io/metadata.name": name}


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: dict[str, str]
    ports: dict[str, int]  # container port name -> number


def pods(objects: list[Obj]) -> list[Pod]:
    """The pods the rendered workloads run, and those the operator runs for the Prometheus and
    Alertmanager objects (labelled as the chart's Services select them)."""
    found = []
    for w in objects:
        if w["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Rollout"):
            template = w["spec"]["template"]
            ports = {
                p["name"]: p["containerPort"]
                for c in template["spec"]["containers"]
                for p in c.get("ports", [])
                if "name" in p
            }
            found.append(Pod(describe(w), namespace(w), labels(template), ports))
    for kind in ("Prometheus", "Alertmanager"):
        for cr in of(objects, kind):
            (service,) = [
                s for s in of(objects, "Service") if s["metadata"]["name"] == cr["metadata"]["name"]
            ]
            # A named targetPort is the container port's name; the sidecar listens on the
            # Service's port number.
            ports = {
                p["targetPort"] if isinstance(p["targetPort"], str) else p["name"]: (
                    p["port"] if isinstance(p["targetPort"], str) else p["targetPort"]
                )
                for p in service["spec"]["ports"]
            }
            found.append(Pod(describe(cr), namespace(cr), service["spec"]["selector"], ports))
    return found


def _peer_matches(peer: Obj, policy_ns: str, objects: list[Obj], dst: Pod | None) -> bool:
    if "ipBlock" in peer:
        return dst is None  # addresses outside the cluster's pods
    if dst is None:
        return False
    ns_ok = (
        selects(peer["namespaceSelector"], namespace_labels(objects, dst.namespace))
        if "namespaceSelector" in peer
        else dst.namespace == policy_ns
    )
    return ns_ok and selects(peer.get("podSelector", {}), dst.labels)


def _port_matches(rule: Obj, port: int, port_name: str) -> bool:
    entries = rule.get("ports")
    if not entries:
        return True
    for entry in entries:
        wanted = entry.get("port")
        if wanted is None or wanted in (port_name, port):
            return True
        if isinstance(wanted, int) and wanted <= port <= entry.get("endPort", wanted):
            return True
    return False


def _allowed(
    objects: list[Obj], direction: str, pod: Pod, peer: Pod | None, port: int, port_name: str
) -> bool:
    """Whether the policies of `pod`'s namespace let traffic through in `direction`."""
    key, peers = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    policies = [
        p
        for p in of(objects, "NetworkPolicy")
        if namespace(p) == pod.namespace
        and selects(p["spec"].get("podSelector", {}), pod.labels)
        and direction
        in p["spec"].get("policyTypes", ["Ingress", *(["Egress"] if "egress" in p["spec"] else [])])
    ]
    if not policies:
        return True
    return any(
        _port_matches(rule, port, port_name)
        and (
            not rule.get(peers)
            or any(_peer_matches(x, namespace(p), objects, peer) for x in rule[peers])
        )
        for p in policies
        for rule in p["spec"].get(key) or []
    )


def flow_allowed(objects: list[Obj], src: Pod, dst: Pod | None, port: int | str) -> bool:
    """Egress from `src` and ingress to `dst` (None: outside the cluster) on `port` (a number,
    or a container port name of `dst`)."""
    name = port if isinstance(port, str) else ""
    number = dst.ports[port] if dst is not None and isinstance(port, str) else int(port)
    if not _allowed(objects, "Egress", src, dst, number, name):
        return False
    return dst is None or _allowed(objects, "Ingress", dst, src, number, name)


def backs(service: Obj, pod: Pod) -> bool:
    """A Service's selector is a plain label map (not a LabelSelector); none selects no pod."""
    selector = service["spec"].get("selector")
    return (
        bool(selector)
        and pod.namespace == namespace(service)
        and selects({"matchLabels": selector}, pod.labels)
    )


def service_pods(
    objects: list[Obj], all_pods: list[Pod], host: str, port: int
) -> list[tuple[Pod, int]]:
    """Pods and container ports behind `<service>.<namespace>[.svc…]:<port>`."""
    service_name, service_ns = host.split(".")[:2]
    (service,) = [
        s for s in of(objects, "Service")
        if s["metadata"]["name"] == service_name and namespace(s) == service_ns
    ]  # fmt: skip
    (entry,) = [p for p in service["spec"]["ports"] if p["port"] == port]
    target = entry.get("targetPort", port)
    return [
        (pod, pod.ports[target] if isinstance(target, str) else target)
        for pod in all_pods
        if backs(service, pod)
    ]
