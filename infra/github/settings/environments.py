"""Environments area: deployment environments, their reviewers and which branches may deploy.

`defaultBranchOnly` is an explicit custom branch policy naming the default branch, not GitHub's
"protected branches" mode: that mode counts classic branch protection, and a repository governed by
rulesets only has none, so it may admit every branch.
"""

from __future__ import annotations

from typing import Any

import pulumi_github as github

from infra.config.base import seconds
from infra.github.import_ids import import_id
from infra.github.settings.declaration import Declaration, RepositoryContext


def environments(ctx: RepositoryContext) -> list[Declaration]:
    declared = []
    existing = ctx.settings.existing
    for env_name, env in sorted(ctx.settings.environments.items()):
        resource = f"{ctx.name}-environment-{env_name}"
        args: dict[str, Any] = {
            "repository": ctx.name,
            "environment": env_name,
            "reviewers": [{"teams": [ctx.team_id(t) for t in env.reviewers]}]
            if env.reviewers
            else None,
            "prevent_self_review": env.prevent_self_review,
            "can_admins_bypass": env.can_admins_bypass,
            "wait_timer": int(seconds(env.wait_timer) // 60),
        }
        if env.default_branch_only:
            args["deployment_branch_policy"] = {
                "protected_branches": False,
                "custom_branch_policies": True,
            }
        declared.append(
            Declaration(
                github.RepositoryEnvironment,
                resource,
                args,
                import_id=import_id(
                    github.RepositoryEnvironment, repository=ctx.name, environment=env_name
                )
                if env_name in existing.environments
                else None,
            )
        )
        if env.default_branch_only:
            declared.append(
                Declaration(
                    github.RepositoryEnvironmentDeploymentPolicy,
                    f"{resource}-branch-{ctx.settings.default_branch}",
                    {
                        "repository": ctx.name,
                        "environment": env_name,
                        "branch_pattern": ctx.settings.default_branch,
                    },
                    depends_on=(resource,),
                    import_id=import_id(
                        github.RepositoryEnvironmentDeploymentPolicy,
                        repository=ctx.name,
                        environment=env_name,
                        policy_id=policy,
                    )
                    if (policy := existing.deployment_policies.get(env_name)) is not None
                    else None,
                )
            )
    return declared
