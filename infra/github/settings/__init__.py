"""Setting areas, one module each (what safe-settings does with one plugin per area).

Each area is a pure function from a repository's context to the resources it declares; a new
area is one new module added to `AREAS`. The repository area comes first: every later
declaration depends on the repository.
"""

from __future__ import annotations

from infra.github.settings.actions import actions
from infra.github.settings.declaration import Declaration, RepositoryContext, SettingArea
from infra.github.settings.environments import environments
from infra.github.settings.files import files
from infra.github.settings.labels import labels
from infra.github.settings.pages import pages
from infra.github.settings.properties import properties
from infra.github.settings.repository import repository
from infra.github.settings.ruleset import ruleset
from infra.github.settings.security import security
from infra.github.settings.teams import teams

AREAS: tuple[SettingArea, ...] = (
    repository, security, labels, teams, environments, actions, pages, properties, files, ruleset,
)  # fmt: skip


def declarations(ctx: RepositoryContext) -> list[Declaration]:
    return [d for area in AREAS for d in area(ctx)]


__all__ = ["AREAS", "Declaration", "RepositoryContext", "declarations"]
