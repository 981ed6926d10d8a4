"""The managed workflows of a repository, each built by its own module."""

from __future__ import annotations

import json
from collections.abc import Callable

from infra.config.github import ActionPin, RepositorySettings, WorkflowName
from infra.github.workflows import (
    code_quality,
    codeql,
    dependency_check,
    dependency_review,
    docker_build,
    docs,
    tests,
)
from infra.github.workflows.common import MissingPin, Workflow

BUILDERS: dict[WorkflowName, tuple[str, Callable[[Workflow], None]]] = {
    "tests": ("tests.yml", tests.build),
    "code-quality": ("code-quality.yml", code_quality.build),
    "dependency-check": ("dependency-check.yml", dependency_check.build),
    "dependency-review": ("dependency-review.yml", dependency_review.build),
    "docker-build": ("docker-build.yml", docker_build.build),
    "codeql": ("codeql.yml", codeql.build),
    "docs": ("docs.yml", docs.build),
}


# Repositories with the same settings get the same workflows: an organisation of hundreds of
# repositories built from a few groups renders each distinct set once per process.
_CACHE: dict[tuple[str, str], list[Workflow]] = {}


def managed_workflows(settings: RepositorySettings, pins: dict[str, ActionPin]) -> list[Workflow]:
    """Build every enabled workflow; raises MissingPin for an action without a pin."""
    key = (
        settings.model_dump_json(),
        json.dumps({k: v.model_dump() for k, v in pins.items()}, sort_keys=True),
    )
    if key not in _CACHE:
        _CACHE[key] = _build(settings, pins)
    return _CACHE[key]


def _build(settings: RepositorySettings, pins: dict[str, ActionPin]) -> list[Workflow]:
    workflows = []
    for key in settings.workflows.enabled:
        file, build = BUILDERS[key]
        workflow = Workflow(file=file, name=key, pins=pins, settings=settings)
        build(workflow)
        workflows.append(workflow)
    return workflows


__all__ = ["MissingPin", "Workflow", "managed_workflows"]
