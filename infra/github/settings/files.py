"""Files area: the managed files, committed to a branch with a pull request (or, for bootstrap
only, straight to the default branch)."""

from __future__ import annotations

import hashlib

import pulumi_github as github

from infra.github.settings.declaration import Declaration, RepositoryContext


def file_resource_name(ctx: RepositoryContext, path: str) -> str:
    return f"{ctx.name}-file-{path}"


def files(ctx: RepositoryContext) -> list[Declaration]:
    s = ctx.settings
    m = s.managed_files
    via_pr = m.via == "pullRequest"
    branch = m.branch if via_pr else s.default_branch
    declared = [
        Declaration(
            github.RepositoryFile,
            file_resource_name(ctx, path),
            {
                "repository": ctx.name,
                "file": path,
                "content": content,
                "branch": branch,
                "autocreate_branch": via_pr,
                "autocreate_branch_source_branch": s.default_branch if via_pr else None,
                "overwrite_on_create": True,
                "commit_author": m.commit_author,
                "commit_email": m.commit_email,
                "commit_message": f"chore(platform): manage {path}",
            },
        )
        for path, content in ctx.files.items()
    ]
    if via_pr:
        digest = hashlib.sha256("".join(ctx.files.values()).encode()).hexdigest()[:12]
        declared.append(
            Declaration(
                github.RepositoryPullRequest,
                f"{ctx.name}-managed-files-pr",
                {
                    "base_repository": ctx.name,
                    "base_ref": s.default_branch,
                    "head_ref": branch,
                    "title": "chore(platform): sync managed files",
                    "body": (
                        "Files managed by tbcoin-platform (Pulumi): "
                        + ", ".join(f"`{p}`" for p in ctx.files)
                        + f".\n\nContent digest: `{digest}`. Review and merge like any other "
                        "change."
                    ),
                    "maintainer_can_modify": False,
                },
                depends_on=tuple(d.name for d in declared),
            )
        )
    return declared
