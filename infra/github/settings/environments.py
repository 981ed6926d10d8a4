"""Environments area: deployment environments, their reviewers and branch policy."""

from __future__ import annotations

import pulumi_github as github

from infra.github.settings.declaration import Declaration, RepositoryContext


def environments(ctx: RepositoryContext) -> list[Declaration]:
    return [
        Declaration(
            github.RepositoryEnvironment,
            f"{ctx.name}-environment-{env_name}",
            {
                "repository": ctx.name,
                "environment": env_name,
                "reviewers": [{"teams": [ctx.team_id(t) for t in env.reviewers]}]
                if env.reviewers
                else None,
                "prevent_self_review": env.prevent_self_review,
                "can_admins_bypass": env.can_admins_bypass,
                "wait_timer": env.wait_timer_minutes,
                "deployment_branch_policy": {
                    "protected_branches": True,
                    "custom_branch_policies": False,
                }
                if env.protected_branches_only
                else None,
            },
        )
        for env_name, env in sorted(ctx.settings.environments.items())
    ]
