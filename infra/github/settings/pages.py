"""Pages area: GitHub Pages built by the docs workflow."""

from __future__ import annotations

import pulumi_github as github

from infra.github.settings.declaration import Declaration, RepositoryContext


def pages(ctx: RepositoryContext) -> list[Declaration]:
    if not ctx.settings.pages:
        return []
    return [
        Declaration(
            github.RepositoryPages,
            f"{ctx.name}-pages",
            {"repository": ctx.name, "build_type": "workflow"},
            import_id=ctx.adopted(github.RepositoryPages) if ctx.settings.existing.pages else None,
        )
    ]
