"""Import ids of the resources the program declares, in pulumi-github 6.15.0's documented formats:
each is the format of the resource's "## Import" section in the vendored provider schema
(vendor/pulumi-github-schema/); tests/test_import_ids.py checks each against that section's
example. `infractl adopt` and the program's `import` option both build ids here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi_github as github

IMPORT_IDS: dict[Callable[..., Any], str] = {
    github.Repository: "{repository}",
    github.RepositoryRuleset: "{repository}:{ruleset_id}",
    github.IssueLabel: "{repository}:{name}",
    # The schema offers `team_id:repository` or `team_name:repository`; the numeric id is the
    # unambiguous one, and adopt reads it.
    github.TeamRepository: "{team_id}:{repository}",
    github.RepositoryEnvironment: "{repository}:{environment}",
    github.RepositoryEnvironmentDeploymentPolicy: "{repository}:{environment}:{policy_id}",
    github.ActionsRepositoryPermissions: "{repository}",
    github.WorkflowRepositoryPermissions: "{repository}",
    github.RepositoryVulnerabilityAlerts: "{repository}",
    github.RepositoryDependabotSecurityUpdates: "{repository}",
    github.RepositoryPages: "{repository}",
    github.RepositoryFile: "{repository}:{file}:{branch}",
}
# The schema: "any `:` in the environment name / file path need to be escaped as `??`".
ESCAPED = ("environment", "file")


def import_id(kind: Callable[..., Any], **parts: Any) -> str:
    """The id `pulumi import` (and the `import` option) takes for a resource of class `kind`."""
    escaped = {k: str(v).replace(":", "??") if k in ESCAPED else str(v) for k, v in parts.items()}
    return IMPORT_IDS[kind].format(**escaped)
