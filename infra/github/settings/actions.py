"""Actions area: which actions may run, and what the workflow token may do."""

from __future__ import annotations

import pulumi_github as github

from infra.github.allowlist import allowed_actions, closure, repo_of
from infra.github.settings.declaration import Declaration, RepositoryContext
from infra.github.workflows import managed_workflows
from infra.github.workflows.common import workflow_uses


def allowed_patterns(ctx: RepositoryContext) -> list[str]:
    """Every pinned action and every action those run inside them (GitHub checks nested ones
    against the allow-list too), as `owner/repo@*`: SHA pinning is required separately."""
    used = workflow_uses(managed_workflows(ctx.settings, dict(ctx.pins)))
    facts = allowed_actions()
    nested = {repo_of(r) for ref in used for r in closure(ref, facts)}
    return sorted(f"{repo}@*" for repo in {*ctx.pins, *nested})


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
                    "patterns_alloweds": allowed_patterns(ctx),
                }
                if a.allowed_actions == "selected"
                else None,
                "sha_pinning_required": a.sha_pinning_required,
            },
            import_id=ctx.adopted(github.ActionsRepositoryPermissions),
        ),
        Declaration(
            github.WorkflowRepositoryPermissions,
            f"{ctx.name}-workflow-permissions",
            {
                "repository": ctx.name,
                "default_workflow_permissions": a.default_workflow_permissions,
                "can_approve_pull_request_reviews": a.can_approve_pull_requests,
            },
            import_id=ctx.adopted(github.WorkflowRepositoryPermissions),
        ),
    ]
