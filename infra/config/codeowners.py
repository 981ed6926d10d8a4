"""Who reviews what in this repository (tbcoin-platform itself, not a repository it governs):
`codeowners.yaml`, from which `infractl codeowners` writes `.github/CODEOWNERS`. The security
owners review every change to the waivers files, so each waiver is a reviewed change."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pydantic
from pydantic import Field, model_validator

from infra.config.base import Model, pattern
from infra.config.documents import DocumentError, load_yaml
from infra.config.errors import ConfigError, ConfigProblem, at, problems_from_validation
from infra.config.github import CodeOwner, Owner
from infra.config.waivers import FOLDER

FILE = "codeowners.yaml"
NAMESPACE = "codeowners"


class RepositoryOwners(Model):
    """This repository's CODEOWNERS, as config."""

    owner: Annotated[str, pattern(r"^[A-Za-z0-9-]+$", "a GitHub organisation or user")] = Field(
        description="The GitHub organisation this repository belongs to; owner teams are its teams."
    )
    rules: list[CodeOwner] = Field(
        min_length=1,
        description="CODEOWNERS lines in order (later lines win): a path pattern and its owners.",
    )
    security: list[Owner] = Field(
        min_length=1,
        description="The security owners: the only reviewers of policies/waivers/, whose "
        "approval every waiver needs.",
    )

    @model_validator(mode="after")
    def _own_teams(self) -> RepositoryOwners:
        for i, who in enumerate(self.security):
            if "/" in who and who.split("/")[0].lower() != f"@{self.owner.lower()}":
                raise at(f"security[{i}]", f"{who} is a team of another organisation")
        return self

    def lines(self) -> list[CodeOwner]:
        """The rules, then what only the security owners review (last: later lines win): the
        waivers, and the two files that say who reviews them, so that the routing cannot be
        dropped without their review either."""
        guarded = (f"/{FOLDER.as_posix()}/", f"/{FILE}", "/.github/CODEOWNERS")
        return [*self.rules, *(CodeOwner(pattern=p, owners=list(self.security)) for p in guarded)]


def load_owners(project: Path) -> RepositoryOwners:
    path = project / FILE
    try:
        data = load_yaml(path)
    except DocumentError as exc:
        raise ConfigError(FILE, [ConfigProblem("", str(exc), NAMESPACE)]) from None
    try:
        return RepositoryOwners.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = problems_from_validation(RepositoryOwners, exc)
        found = [ConfigProblem(p.path, p.message, NAMESPACE) for p in problems]
        raise ConfigError(FILE, found) from None
