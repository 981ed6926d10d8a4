"""Actions area: which actions may run, and what the workflow token may do."""

from __future__ import annotations

import pulumi_github as github

from infra.github.settings.declaration import Declaration, RepositoryContext


def actions(ctx: RepositoryContext) -> list[Declaration]:
    a = ctx.settings.actions
    return [
        Declaration(
            github.ActionsRepositoryPermissions,
            f"{ctx.name}-actions-permissions",
            {
                "repository": ctx.name,
                "enabled": True,
                "allowed_actions": a.allowed_actions,
                "allowed_actions_config": {
                    "github_owned_allowed": a.github_owned_allowed,
                    "verified_allowed": a.verified_allowed,
                    "patterns_alloweds": sorted(f"{action}@*" for action in ctx.pins),
                }
                if a.allowed_actions == "selected"
                else None,
                "sha_pinning_required": a.sha_pinning_required,
            },
        ),
        Declaration(
            github.WorkflowRepositoryPermissions,
            f"{ctx.name}-workflow-permissions",
            {
                "repository": ctx.name,
                "default_workflow_permissions": a.default_workflow_permissions,
                "can_approve_pull_request_reviews": a.can_approve_pull_requests,
            },
        ),
    ]
