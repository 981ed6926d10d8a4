"""Kubernetes topology: secure, observable, highly available workloads and safe traffic."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity

from tbcoin_policies.common import (
    NotWaivable,
    Waivable,
    cis_kubernetes,
    dig,
    floor_default,
    labels_match,
    namespace_of,
    of_type,
    pod_security,
    project_rule,
    resource_policy,
    scorecard,
    stack_policy,
)

AREA = "kubernetes"
PINNED, AVAILABILITY = "k8s-images-pinned", "k8s-production-high-availability"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
WORKLOADS = {
    DEPLOYMENT: ("spec", "template", "spec"),
    ROLLOUT: ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE = "kubernetes:core/v1:Service"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
TIER = "tbcoin.io/tier"
MAX_WEIGHT = "tbcoin.io/canary-max-weight"
# The route names its canary backend itself (infra/kubernetes/strategies.py writes both
# annotations; the name is the Rollout's canaryService).
CANARY_SERVICE = "tbcoin.io/canary-service"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
PINNED_VERSION = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$")


def _pod(args_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    path = WORKLOADS.get(args_type)
    return None if path is None else dig(props, *path)


def _containers(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]


def _restricted(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterable[str]:
    pod = _pod(args.resource_type, args.props)
    if pod is None:
        return
    pod_sc = pod.get("securityContext") or {}
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            yield f"The pod sets {host}."
    for c in _containers(pod):
        sc = c.get("securityContext") or {}
        name = c.get("name")
        if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            yield f"Container '{name}' may run as root (runAsNonRoot is not true)."
        if sc.get("allowPrivilegeEscalation") is not False:
            yield f"Container '{name}' allows privilege escalation."
        if sc.get("privileged"):
            yield f"Container '{name}' is privileged."
        if "ALL" not in (dig(sc, "capabilities", "drop") or []):
            yield f"Container '{name}' does not drop ALL capabilities."
        added = set(dig(sc, "capabilities", "add") or []) - {"NET_BIND_SERVICE"}
        if added:
            yield f"Container '{name}' adds capabilities {sorted(added)}."
        seccomp = dig(sc, "seccompProfile", "type") or dig(pod_sc, "seccompProfile", "type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            yield f"Container '{name}' has no RuntimeDefault seccomp profile."
        if not sc.get("readOnlyRootFilesystem"):
            yield f"Container '{name}' can write to its root filesystem."


pod_security_restricted = resource_policy(
    "k8s-pod-security-restricted",
    area=AREA,
    description="Every pod template meets Pod Security 'restricted' (plus a read-only root).",
    severity=Severity.HIGH,
    standard=pod_security("Privilege Escalation, Running as Non-root, Capabilities, Seccomp"),
    remediation="build workloads with infra/kubernetes/workload.py, whose securityContext sets "
    "all of these.",
    types=tuple(WORKLOADS),
    check=_restricted,
    waiver=Waivable(
        "some workloads need one control relaxed (a node agent's host PID, a vendor image that "
        "writes to its root filesystem); a waiver confines that to the resources it names, "
        "reviewed and dated, where the alternative would be the policy turned down for the "
        "whole stack (which the floor forbids). The level stays as configured."
    ),
)


def _resources(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterable[str]:
    pod = _pod(args.resource_type, args.props)
    for c in _containers(pod or {}):
        res = c.get("resources") or {}
        for kind in ("requests", "limits"):
            for what in ("cpu", "memory"):
                if not dig(res, kind, what):
                    yield f"Container '{c.get('name')}' has no {what} {kind[:-1]}."


requests_and_limits = resource_policy(
    "k8s-requests-and-limits",
    area=AREA,
    description="Every container declares CPU and memory requests and limits.",
    severity=Severity.MEDIUM,
    standard=cis_kubernetes("5.7", "General policies: resource limits"),
    remediation="set services.<name>.resources.requests and .limits in the stack config.",
    types=tuple(WORKLOADS),
    check=_resources,
    waiver=Waivable(
        "a workload being sized may run without a limit for a while; the namespace quota "
        "still bounds the total."
    ),
)


def _probes(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterable[str]:
    if args.resource_type in ("kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob"):
        return
    pod = _pod(args.resource_type, args.props)
    for c in (pod or {}).get("containers") or []:
        for probe in ("readinessProbe", "livenessProbe"):
            if not c.get(probe):
                yield f"Container '{c.get('name')}' has no {probe}."


probes = resource_policy(
    "k8s-probes",
    area=AREA,
    description="Long-running containers have readiness and liveness probes.",
    severity=Severity.MEDIUM,
    standard=project_rule("health-probes"),
    remediation="point app.healthPath (startup and liveness) and app.readinessPath (readiness) "
    "at the app's endpoints; the workload builder adds the probes.",
    types=tuple(WORKLOADS),
    check=_probes,
    waiver=Waivable(
        "a worker with no endpoint to probe, or a probe being fixed, is a known gap for a time."
    ),
)


def _images(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterable[str]:
    pod = _pod(args.resource_type, args.props)
    for c in _containers(pod or {}):
        image = str(c.get("image") or "")
        name = image.split("@")[0]
        tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else None
        if DIGEST.search(image):
            continue
        if tag in (None, "latest"):
            yield f"Container '{c.get('name')}' runs {image!r}: a mutable tag."
        elif config.get("requireDigest", floor_default(PINNED, "requireDigest")):
            yield f"Container '{c.get('name')}' runs {image!r}, not an image digest."


images_pinned = resource_policy(
    PINNED,
    area=AREA,
    description="Images are never ':latest' or untagged, and are pinned by digest where required.",
    severity=Severity.HIGH,
    standard=scorecard("Pinned-Dependencies"),
    remediation="name images as sha256:<digest> (or 'build') in services.<name>.strategy.",
    types=tuple(WORKLOADS),
    check=_images,
    waiver=NotWaivable(
        "what runs must be what was reviewed; the floor requires digests (requireDigest)."
    ),
    properties={
        "requireDigest": {
            "type": "boolean",
            "default": floor_default(PINNED, "requireDigest"),
            "description": "Whether every image must be pinned by digest (not only not latest).",
        }
    },
)


def _namespace_tiers(resources: list[PolicyResource]) -> dict[str, str]:
    return {
        str(dig(r.props, "metadata", "name")): str(
            dig(r.props, "metadata", "labels", TIER, default="")
        )
        for r in of_type(resources, NAMESPACE)
    }


def _pod_labels(r: PolicyResource) -> Mapping[str, Any]:
    return dig(r.props, "spec", "template", "metadata", "labels", default={})


def _autoscalers(resources: list[PolicyResource]) -> dict[tuple[str, Any], PolicyResource]:
    """HPAs by (namespace, name of the workload they scale)."""
    return {
        (namespace_of(h), dig(h.props, "spec", "scaleTargetRef", "name")): h
        for h in of_type(resources, HPA)
    }


def _high_availability(
    resources: list[PolicyResource], config: Mapping[str, Any]
) -> Iterable[tuple[str, str]]:
    minimum = int(config.get("minReplicas", floor_default(AVAILABILITY, "minReplicas")))
    tiers = _namespace_tiers(resources)
    hpas = _autoscalers(resources)
    pdbs = of_type(resources, PDB)
    # Every Deployment and Rollout serves traffic (canary and preview pods belong to a Rollout).
    for d in of_type(resources, DEPLOYMENT, ROLLOUT):
        if tiers.get(namespace_of(d)) != "production":
            continue
        name = dig(d.props, "metadata", "name")
        hpa = hpas.get((namespace_of(d), name))
        replicas = (
            dig(hpa.props, "spec", "minReplicas")
            if hpa
            else dig(d.props, "spec", "replicas", default=1)
        )
        if int(replicas or 0) < minimum:
            yield (
                f"Workload '{name}' runs {replicas} replica(s); production needs {minimum}.",
                d.urn,
            )
        labels = _pod_labels(d)
        if not any(
            namespace_of(p) == namespace_of(d)
            and labels_match(dig(p.props, "spec", "selector", "matchLabels", default={}), labels)
            for p in pdbs
        ):
            yield f"Workload '{name}' has no PodDisruptionBudget.", d.urn


high_availability = stack_policy(
    AVAILABILITY,
    area=AREA,
    description="Production workloads serving traffic run >= 2 replicas with a disruption budget.",
    severity=Severity.HIGH,
    standard=project_rule("production-availability"),
    remediation="set services.<name>.replicas >= 2 in the production stack; the workload builder "
    "then adds a PodDisruptionBudget.",
    check=_high_availability,
    waiver=NotWaivable(
        "its replica minimum is a floor parameter on prod; a single replica is an outage on "
        "the next node drain."
    ),
    properties={
        "minReplicas": {
            "type": "integer",
            "minimum": 1,
            "default": floor_default(AVAILABILITY, "minReplicas"),
            "description": "The fewest replicas a production workload serving traffic may run.",
        }
    },
)


def _default_deny(
    resources: list[PolicyResource], _: Mapping[str, Any]
) -> Iterable[tuple[str, str]]:
    denying = {
        namespace_of(p)
        for p in of_type(resources, NETWORK_POLICY)
        if dig(p.props, "spec", "podSelector", default={}) in ({}, {"matchLabels": {}})
        and {"Ingress", "Egress"} <= set(dig(p.props, "spec", "policyTypes", default=[]))
        and not dig(p.props, "spec", "ingress")
        and not dig(p.props, "spec", "egress")
    }
    for ns in of_type(resources, NAMESPACE):
        name = str(dig(ns.props, "metadata", "name"))
        if name not in denying:
            yield f"Namespace '{name}' has no default-deny NetworkPolicy.", ns.urn


default_deny = stack_policy(
    "k8s-namespace-default-deny",
    area=AREA,
    description="Every namespace denies all traffic by default; allows are explicit.",
    severity=Severity.HIGH,
    standard=cis_kubernetes("5.3.2", "Ensure that all Namespaces have NetworkPolicies defined"),
    remediation="declare the namespace as an environment; its component adds `default-deny`.",
    check=_default_deny,
    waiver=Waivable(
        "a namespace a third-party install creates may need its own network rules written "
        "first; the waiver names that namespace and nothing else."
    ),
)


def _selectors(resources: list[PolicyResource], _: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    workloads = of_type(resources, *WORKLOADS)
    for s in of_type(resources, SERVICE):
        selector = dig(s.props, "spec", "selector", default={})
        if not selector:
            continue
        if not any(
            namespace_of(w) == namespace_of(s) and labels_match(selector, _pod_labels(w))
            for w in workloads
        ):
            name = dig(s.props, "metadata", "name")
            yield (
                f"Service '{name}' selects {dict(selector)}, which no workload's pods carry.",
                s.urn,
            )


service_selects_workload = stack_policy(
    "k8s-service-selects-workload",
    area=AREA,
    description="Every Service's selector matches the pods of a workload.",
    severity=Severity.HIGH,
    standard=project_rule("no-dangling-services"),
    remediation="check the service's strategy and track names in the stack config.",
    check=_selectors,
    waiver=Waivable(
        "a Service whose pods come from outside the stack (a chart, another controller) "
        "selects pods the pack cannot see."
    ),
)


# What a controller owns on an object Pulumi declares (both fields are atomic in their schemas).
ROLLOUT_SERVICES = ("canaryService", "stableService", "activeService", "previewService")


def _rollout_routes(rollout: PolicyResource) -> list[tuple[str, str]]:
    """(namespace, name) of each HTTPRoute the Rollout's Gateway API plugin edits: in the
    plugin's `namespace`, else the Rollout's own."""
    canary = dig(rollout.props, "spec", "strategy", "canary", default={}) or {}
    routes = []
    for plugin in (dig(canary, "trafficRouting", "plugins", default={}) or {}).values():
        if not isinstance(plugin, Mapping):
            continue
        ns = str(plugin.get("namespace") or namespace_of(rollout))
        named = [r.get("name") for r in plugin.get("httpRoutes") or [] if isinstance(r, Mapping)]
        named += [plugin.get("httpRoute")]
        routes += [(ns, str(name)) for name in named if name]
    return routes


# The field manager the Kubernetes provider applies with (`pulumi-kubernetes-<id>`).
PULUMI_MANAGER = "pulumi-kubernetes"


def _declares_replicas(w: PolicyResource) -> bool:
    """Whether the program sets spec.replicas. Under the engine a stack policy sees the object
    as the API server answers the provider's dry run: once an HPA has scaled it, spec.replicas
    is there, owned by kube-controller-manager through the scale subresource (seen in `make
    e2e`: every release of an autoscaled Rollout was refused). Only Pulumi's own field manager
    declares; offline there are no managedFields and what is there is what the program set."""
    if dig(w.props, "spec", "replicas") is None:
        return False
    managed = dig(w.props, "metadata", "managedFields", default=[]) or []
    if not managed:
        return True
    return any(
        str(entry.get("manager", "")).startswith(PULUMI_MANAGER)
        and "f:replicas" in (dig(entry, "fieldsV1", "f:spec", default={}) or {})
        for entry in managed
    )


def _shared_with_controllers(
    resources: list[PolicyResource], _: Mapping[str, Any]
) -> Iterable[tuple[str, str]]:
    by_name = {
        (r.resource_type, namespace_of(r), dig(r.props, "metadata", "name")): r
        for r in of_type(resources, SERVICE, HTTP_ROUTE)
    }
    for rollout in of_type(resources, ROLLOUT):
        ns = namespace_of(rollout)
        strategies = dig(rollout.props, "spec", "strategy", default={}) or {}
        strategy: Mapping[str, Any] = next(iter(strategies.values()), {}) or {}
        owned = [(SERVICE, ns, strategy.get(k), "spec.selector") for k in ROLLOUT_SERVICES]
        owned += [(HTTP_ROUTE, at, name, "spec.rules") for at, name in _rollout_routes(rollout)]
        for kind, at, name, field in owned:
            shared = by_name.get((kind, at, name)) if name else None
            if shared is not None and list(shared.opts.ignore_changes or []) != [field]:
                yield (
                    f"{kind.rsplit(':', 1)[1]} '{name}' is edited by the Argo Rollouts "
                    f"controller: declare it with ignoreChanges exactly ['{field}'] "
                    f"(got {list(shared.opts.ignore_changes or [])}).",
                    shared.urn,
                )
    scaled = _autoscalers(resources)
    for w in of_type(resources, DEPLOYMENT, ROLLOUT):
        name = dig(w.props, "metadata", "name")
        if (namespace_of(w), name) in scaled and _declares_replicas(w):
            yield (f"'{name}' declares replicas although an HPA scales it.", w.urn)


shared_with_controllers = stack_policy(
    "k8s-shared-with-controllers",
    area=AREA,
    description="Fields a controller owns (route weights, Service selectors, replica counts) are "
    "left to it.",
    severity=Severity.CRITICAL,
    standard=project_rule("progressive-delivery"),
    remediation="build the object through the release strategies (infra/kubernetes/"
    "strategies.py), which set ignoreChanges and leave replicas to the HPA.",
    check=_shared_with_controllers,
    waiver=NotWaivable(
        "Pulumi and the Argo Rollouts controller would undo each other's writes on every `up`: "
        "the release itself breaks."
    ),
)


def _whole(value: Any) -> int | None:
    """A weight or percentage as a whole number (the engine sends numbers as floats)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def _weights(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterable[str]:
    annotations = dig(args.props, "metadata", "annotations", default={}) or {}
    maximum, canary = annotations.get(MAX_WEIGHT), annotations.get(CANARY_SERVICE)
    limit = _whole(maximum) if canary else None  # the bound, when the route states it whole
    if maximum is not None and limit is None:
        yield (
            f"The route's {MAX_WEIGHT} must be a whole number and come with {CANARY_SERVICE} "
            f"naming the canary Service (got {maximum!r}, {canary!r})."
        )
    for i, rule in enumerate(dig(args.props, "spec", "rules", default=[]) or []):
        refs = [r for r in rule.get("backendRefs") or [] if isinstance(r, Mapping)]
        given = [r.get("weight") for r in refs]
        if len(refs) < 2 or all(w is None for w in given):
            continue
        # An omitted weight is 1 (Gateway API).
        weights = [_whole(w) for w in given if w is not None] + [1] * given.count(None)
        whole = [w for w in weights if w is not None]
        if len(whole) < len(refs):
            yield f"Rule {i} has weights that are not all whole numbers: {given}."
            continue
        if sum(whole) != 100:
            yield f"Rule {i} splits traffic in weights that sum to {sum(whole)}, not 100."
        for ref in refs:
            weight = _whole(ref.get("weight")) or 0
            if limit is not None and ref.get("name") == canary and weight > limit:
                yield f"Rule {i} gives the canary {weight}%, above its maximum {limit}%."


canary_weights = resource_policy(
    "k8s-canary-weights",
    area=AREA,
    description="Traffic splits add up to 100 and a canary stays within its maximum weight.",
    severity=Severity.HIGH,
    standard=project_rule("canary"),
    remediation="declare routes with explicit weights (stable 100, canary 0); the controller "
    "moves them, up to maxWeight, then `infractl rollout promote`.",
    types=(HTTP_ROUTE,),
    check=_weights,
    waiver=NotWaivable(
        "a split that does not add up to 100, or exceeds the maximum, sends live traffic where "
        "no one reviewed it; maxWeight is config the same reviewers can change."
    ),
)


def _chart_pinned(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterable[str]:
    version = str(args.props.get("version") or "")
    if not PINNED_VERSION.fullmatch(version):
        chart = args.props.get("chart")
        yield f"Chart {chart!r} is not pinned to an exact version (got {version!r})."


helm_pinned = resource_policy(
    "k8s-helm-chart-pinned",
    area=AREA,
    description="Every Helm release pins an exact chart version.",
    severity=Severity.MEDIUM,
    standard=scorecard("Pinned-Dependencies"),
    remediation="set an exact chart version (e.g. 1.7.4) in the stack config.",
    types=(HELM_RELEASE,),
    check=_chart_pinned,
    waiver=NotWaivable(
        "an unpinned chart changes what is deployed without a review, as a mutable image tag "
        "would (images are pinned by the floor)."
    ),
)

POLICIES = [
    pod_security_restricted,
    requests_and_limits,
    probes,
    images_pinned,
    high_availability,
    default_deny,
    service_selects_workload,
    shared_with_controllers,
    canary_weights,
    helm_pinned,
]
