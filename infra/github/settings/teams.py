"""Teams area: which organisation teams have which permission on the repository."""

from __future__ import annotations

import pulumi_github as github

from infra.github.import_ids import import_id
from infra.github.settings.declaration import Declaration, RepositoryContext


def teams(ctx: RepositoryContext) -> list[Declaration]:
    return [
        Declaration(
            github.TeamRepository,
            f"{ctx.name}-team-{access.team}",
            {"repository": ctx.name, "team_id": access.team, "permission": access.permission},
            import_id=import_id(github.TeamRepository, team_id=team, repository=ctx.name)
            if (team := ctx.settings.existing.teams.get(access.team)) is not None
            else None,
        )
        for access in ctx.settings.teams
    ]
