"""The explicit Kubernetes provider: no resource ever lands on an ambient, unnamed cluster."""

from __future__ import annotations

import pulumi_kubernetes as k8s

from infra.config.model import KubernetesConfig


def kubernetes_provider(stack: str, config: KubernetesConfig) -> k8s.Provider:
    return k8s.Provider(
        f"{stack}-cluster",
        context=config.context,
        # Server-side apply makes field ownership explicit and conflicts visible in previews.
        enable_server_side_apply=True,
    )
