"""Files area: the managed files, committed to a branch with a pull request (or, for bootstrap
only, straight to the default branch).

The branch and the pull request are keyed to the digest of the files' content, so a content change
creates a new branch and a new PR instead of editing a merged one (terraform-provider-github
v6.13.0: `head_ref` forces a new PR, and updating a closed PR only edits its body). Merging deletes
the branch (`deleteBranchOnMerge`); then the provider could delete neither the branch nor the files
on it (both answer 404 and fail), so those resources, and the PR, are `retainOnDelete`: Pulumi drops
them from state without calling GitHub. Once the PR of the current digest is closed (merged, or
rejected by a reviewer) nothing is declared for it, so the next `up` forgets the gone branch.
"""

from __future__ import annotations

import hashlib

import pulumi_github as github

from infra.github.import_ids import import_id
from infra.github.settings.declaration import Declaration, RepositoryContext


def file_resource_name(ctx: RepositoryContext, path: str) -> str:
    return f"{ctx.name}-file-{path}"


def content_digest(files: dict[str, str]) -> str:
    whole = hashlib.sha256()
    for path, content in sorted(files.items()):
        whole.update(f"{path}\0{content}\0".encode())
    return whole.hexdigest()[:12]


def managed_branch(ctx: RepositoryContext) -> str:
    return f"{ctx.settings.managed_files.branch}-{content_digest(ctx.files)}"


def _file(
    ctx: RepositoryContext, path: str, content: str, branch: str, after: tuple[str, ...] = ()
) -> Declaration:
    m = ctx.settings.managed_files
    return Declaration(
        github.RepositoryFile,
        file_resource_name(ctx, path),
        {
            "repository": ctx.name,
            "file": path,
            "content": content,
            "branch": branch,
            "overwrite_on_create": True,
            "commit_author": m.commit_author,
            "commit_email": m.commit_email,
            "commit_message": f"chore(platform): manage {path}",
        },
        depends_on=after,
        # Only files on a managed branch: the branch may be gone (merged) when Pulumi forgets them.
        retain_on_delete=bool(after),
        # Only on the default branch: a managed branch is new, its files too.
        import_id=import_id(github.RepositoryFile, repository=ctx.name, file=path, branch=branch)
        if not after and path in ctx.settings.existing.files
        else None,
    )


def files(ctx: RepositoryContext) -> list[Declaration]:
    s = ctx.settings
    if s.managed_files.via == "defaultBranch":
        return [_file(ctx, p, c, s.default_branch) for p, c in ctx.files.items()]
    branch = managed_branch(ctx)
    if ctx.pull_request_closed(branch):
        return []
    digest = content_digest(ctx.files)
    branch_resource = f"{ctx.name}-managed-files-{digest}"
    declared = [
        Declaration(
            github.Branch,
            branch_resource,
            {"repository": ctx.name, "branch": branch, "source_branch": s.default_branch},
            retain_on_delete=True,
        )
    ]
    declared += [_file(ctx, p, c, branch, after=(branch_resource,)) for p, c in ctx.files.items()]
    declared.append(
        Declaration(
            github.RepositoryPullRequest,
            f"{branch_resource}-pr",
            {
                "base_repository": ctx.name,
                "base_ref": s.default_branch,
                "head_ref": branch,
                "title": "chore(platform): sync managed files",
                "body": (
                    "Files managed by tbcoin-platform (Pulumi): "
                    + ", ".join(f"`{p}`" for p in ctx.files)
                    + f".\n\nContent digest: `{digest}`. Review and merge like any other change."
                ),
                "maintainer_can_modify": False,
            },
            depends_on=tuple(d.name for d in declared),
            retain_on_delete=True,
        )
    )
    return declared
