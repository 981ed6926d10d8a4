"""Repository area: the `github.Repository` itself."""

from __future__ import annotations

from typing import Any

import pulumi_github as github

from infra.github.settings.declaration import Declaration, RepositoryContext


def repository_args(ctx: RepositoryContext) -> dict[str, Any]:
    s = ctx.settings
    args: dict[str, Any] = {
        "name": ctx.name,
        "description": s.description,
        "visibility": s.visibility,
        "topics": s.topics,
        "has_issues": s.has_issues,
        "has_discussions": s.has_discussions,
        "has_wiki": s.has_wiki,
        "has_projects": s.has_projects,
        "allow_merge_commit": s.merge.allow_merge_commit,
        "allow_squash_merge": s.merge.allow_squash_merge,
        "allow_rebase_merge": s.merge.allow_rebase_merge,
        "allow_auto_merge": s.merge.allow_auto_merge,
        "delete_branch_on_merge": s.merge.delete_branch_on_merge,
        # A destroy (or a repository dropped from config) archives; it never deletes.
        "archive_on_destroy": True,
    }
    if s.homepage_url:
        args["homepage_url"] = s.homepage_url
    if s.merge.allow_squash_merge:
        args["squash_merge_commit_title"] = "PR_TITLE"
        args["squash_merge_commit_message"] = "PR_BODY"
    if s.security.secret_scanning:
        status = {"status": "enabled"}
        args["security_and_analysis"] = {
            "secret_scanning": status,
            "secret_scanning_push_protection": (
                status if s.security.push_protection else {"status": "disabled"}
            ),
        }
    return args


def repository(ctx: RepositoryContext) -> list[Declaration]:
    return [
        Declaration(
            github.Repository,
            ctx.name,
            repository_args(ctx),
            # Losing a repository is unrecoverable: refuse deletes, keep it on removal.
            protect=True,
            retain_on_delete=True,
            import_id=ctx.adopted(github.Repository),
            # The deprecated field is owned by RepositoryVulnerabilityAlerts (security area).
            ignore_changes=("vulnerabilityAlerts",),
        )
    ]
