"""`github.Repository` inputs: the repository's own settings."""

from __future__ import annotations

from typing import Any

from infra.config.github import RepositorySettings


def repository_args(name: str, s: RepositorySettings) -> dict[str, Any]:
    args: dict[str, Any] = {
        "name": name,
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
