"""Labels area."""

from __future__ import annotations

import pulumi_github as github

from infra.github.settings.declaration import Declaration, RepositoryContext


def labels(ctx: RepositoryContext) -> list[Declaration]:
    declared = ctx.settings.labels
    if not declared:
        return []
    return [
        Declaration(
            github.IssueLabels,
            f"{ctx.name}-labels",
            {
                "repository": ctx.name,
                "labels": [
                    {"name": label.name, "color": label.color, "description": label.description}
                    for label in declared
                ],
            },
        )
    ]
