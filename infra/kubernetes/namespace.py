"""Namespace manifest of one environment."""

from __future__ import annotations

from typing import Any

from infra.config.model import EnvironmentConfig
from infra.manifests.labels import common_labels

# Pod Security admission: reject pods that are not "restricted", and say so in warnings/audit too.
POD_SECURITY_LEVEL = "restricted"


def namespace_manifest(env_name: str, env: EnvironmentConfig) -> dict[str, Any]:
    labels = {
        **env.labels,
        **common_labels(env_name),
        "tbcoin.io/tier": env.tier,
        **{
            f"pod-security.kubernetes.io/{mode}": POD_SECURITY_LEVEL
            for mode in ("enforce", "audit", "warn")
        },
    }
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": env.namespace, "labels": dict(sorted(labels.items()))},
    }
