"""The managed workflows of a repository, each built by its own module."""

from __future__ import annotations

from collections.abc import Callable

from infra.config.github import ActionPin, RepositorySettings, WorkflowName
from infra.github.workflows import code_quality, codeql, dependency_check, docker_build, docs, tests
from infra.github.workflows.common import MissingPin, Workflow, check_names

BUILDERS: dict[WorkflowName, tuple[str, Callable[[Workflow], None]]] = {
    "tests": ("tests.yml", tests.build),
    "code-quality": ("code-quality.yml", code_quality.build),
    "dependency-check": ("dependency-check.yml", dependency_check.build),
    "docker-build": ("docker-build.yml", docker_build.build),
    "codeql": ("codeql.yml", codeql.build),
    "docs": ("docs.yml", docs.build),
}


def managed_workflows(settings: RepositorySettings, pins: dict[str, ActionPin]) -> list[Workflow]:
    """Build every enabled workflow; raises MissingPin for an action without a pin."""
    workflows = []
    for key in settings.workflows.enabled:
        file, build = BUILDERS[key]
        workflow = Workflow(file=file, name=key, pins=pins, settings=settings)
        build(workflow)
        workflows.append(workflow)
    return workflows


def produced_checks(workflows: list[Workflow]) -> dict[str, str]:
    """Check name -> the workflow file whose job reports it."""
    return {name: w.path for w in workflows for name in check_names(w.document)}


__all__ = ["MissingPin", "Workflow", "managed_workflows", "produced_checks"]
