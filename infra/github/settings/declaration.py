"""What a setting area asks for: plain data, turned into Pulumi resources by GovernedRepository."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pulumi

from infra.config.github import ActionPin, RepositorySettings
from infra.github.files import repository_files
from infra.github.import_ids import import_id


@dataclass(frozen=True)
class Declaration:
    """One resource: its class, logical name and inputs, and the options that matter for it."""

    kind: Callable[..., pulumi.CustomResource]
    name: str
    args: Mapping[str, Any]
    # Logical names of other declarations of the same repository this one must follow.
    depends_on: tuple[str, ...] = ()
    import_id: str | None = None
    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepositoryContext:
    """Everything a setting area may read about one repository."""

    owner: str
    name: str
    settings: RepositorySettings
    pins: Mapping[str, ActionPin]
    # Team slug -> numeric id (a provider lookup in a real run; any callable in tests).
    team_id: Callable[[str], Any] = field(compare=False)
    # Names of the labels the repository already has (read only for an adopted repository).
    existing_labels: frozenset[str] = frozenset()
    # Whether the pull request from this branch was closed (merged or rejected).
    pull_request_closed: Callable[[str], bool] = field(default=lambda branch: False, compare=False)

    def adopted(self, kind: Callable[..., pulumi.CustomResource]) -> str | None:
        """The import id of a per-repository resource, if the repository is adopted."""
        return import_id(kind, repository=self.name) if self.settings.existing.repository else None

    @cached_property
    def files(self) -> dict[str, str]:
        """The managed files, {path: content}, rendered once for every area that needs them."""
        return repository_files(self.owner, self.name, self.settings, dict(self.pins))


SettingArea = Callable[[RepositoryContext], list[Declaration]]
