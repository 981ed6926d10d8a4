"""ResourceQuota and LimitRange of an environment namespace."""

from __future__ import annotations

from typing import Any

from infra.config.environments import EnvironmentConfig
from infra.manifests.labels import common_labels


def resource_quota_manifest(env_name: str, env: EnvironmentConfig) -> dict[str, Any]:
    q = env.quota
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {
            "name": "compute",
            "namespace": env.namespace,
            "labels": common_labels(env_name),
        },
        "spec": {
            "hard": {
                "requests.cpu": q.cpu,
                "requests.memory": q.memory,
                "limits.cpu": q.cpu,
                "limits.memory": q.memory,
                "pods": str(q.pods),
            }
        },
    }


def limit_range_manifest(env_name: str, env: EnvironmentConfig) -> dict[str, Any]:
    d = env.container_defaults
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {
            "name": "container-defaults",
            "namespace": env.namespace,
            "labels": common_labels(env_name),
        },
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "defaultRequest": d.requests.model_dump(),
                    "default": d.limits.model_dump(),
                }
            ]
        },
    }
