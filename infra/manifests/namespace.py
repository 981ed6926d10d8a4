"""The namespace of a component the platform installs (a controller, the monitoring stack)."""

from __future__ import annotations

from typing import Any

from infra.manifests.labels import MANAGED_BY, PART_OF

LABELS = {"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": MANAGED_BY}


def component_namespace(name: str, enforce: str) -> dict[str, Any]:
    """Pod Security admission enforces `enforce`; audit and warn stay at `restricted`, so any
    pod below it is named in the audit log and to whoever applies it."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {
                **LABELS,
                "pod-security.kubernetes.io/enforce": enforce,
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            },
        },
    }
