"""Register plain manifest dicts as typed pulumi_kubernetes resources.

Builders return manifests exactly as `kubectl apply` would take them; this module is the one place
that knows which SDK class registers which kind.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

_CLASSES: dict[tuple[str, str], Any] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "ResourceQuota"): k8s.core.v1.ResourceQuota,
    ("v1", "LimitRange"): k8s.core.v1.LimitRange,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def resource_name(manifest: dict[str, Any]) -> str:
    """Logical name: unique per stack and readable in a preview (`<ns>/<kind>/<name>`)."""
    meta = manifest["metadata"]
    namespace = meta.get("namespace")
    kind = manifest["kind"].lower()
    return f"{namespace}-{kind}-{meta['name']}" if namespace else f"{kind}-{meta['name']}"


def apply_manifest(
    manifest: dict[str, Any], opts: pulumi.ResourceOptions | None = None
) -> pulumi.CustomResource:
    key = (manifest["apiVersion"], manifest["kind"])
    body = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    name = resource_name(manifest)
    cls = _CLASSES.get(key)
    if cls is None:
        # CRD-backed kinds (Gateway API, prometheus-operator) go through the generic resource.
        return k8s.apiextensions.CustomResource(
            name, api_version=key[0], kind=key[1], opts=opts, **body
        )
    return cls(name, opts=opts, **{_snake(k): v for k, v in body.items()})
