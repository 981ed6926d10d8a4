"""A container's `resources` as manifests and charts' values give them."""

from __future__ import annotations

from typing import Any

from infra.config.resources import PrometheusResources, Resources


def container_resources(resources: Resources | PrometheusResources) -> dict[str, Any]:
    """`{requests: {cpu, memory}, limits: {cpu, memory}}`, an unset CPU limit left out."""
    return resources.model_dump(exclude_none=True)
