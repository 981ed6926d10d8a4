"""Dependabot version updates of a repository: which ecosystems, in which folders, how often.

The ecosystems a config may name are the ones GitHub's dependabot.yml schema accepts, read from
the vendored schema (vendor/dependabot-schema/): a new ecosystem arrives with a schema refresh,
not with an edit here.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from infra.config.base import Integer, Model, pattern, unique
from infra.config.charts import ROOT

SCHEMA = ROOT / "vendor/dependabot-schema/dependabot-2.0.json"

# Labels Dependabot puts on its pull requests besides `dependencies`: the language for package
# managers of one, the ecosystem's own name otherwise. Each must be a declared label.
ECOSYSTEM_LABELS = {
    "pip": "python",
    "uv": "python",
    "conda": "python",
    "github-actions": "github-actions",
    "docker": "docker",
    "docker-compose": "docker",
    "npm": "javascript",
    "bun": "javascript",
    "gomod": "go",
    "cargo": "rust",
    "bundler": "ruby",
    "composer": "php",
    "maven": "java",
    "gradle": "java",
}


@cache
def ecosystems() -> tuple[str, ...]:
    """Every `package-ecosystem` the dependabot.yml schema accepts."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return tuple(schema["definitions"]["package-ecosystem-values"]["enum"])


def ecosystem_label(ecosystem: str) -> str:
    return ECOSYSTEM_LABELS.get(ecosystem, ecosystem)


def _known(name: str) -> str:
    if name not in ecosystems():
        raise ValueError(f"must be one of {', '.join(ecosystems())} (got {name!r})")
    return name


Directory = Annotated[
    str, pattern(r"^/[A-Za-z0-9_.*/-]*$", "an absolute folder (a glob) in the repository")
]


class Ecosystem(Model):
    RENAMED: ClassVar[dict[str, str]] = {
        "directory": "directories, a list of folders such as ['/'] (globs allowed)"
    }

    ecosystem: Annotated[str, AfterValidator(_known)] = Field(
        description="The package manager Dependabot updates, as dependabot.yml names it "
        "(pip, gomod, npm, github-actions, ...).",
        json_schema_extra={"enum": list(ecosystems())},
    )
    directories: Annotated[list[Directory], unique("folder")] = Field(
        default_factory=lambda: ["/"],
        min_length=1,
        description="The folders of its manifests, from the repository root (globs such as "
        "/services/* allowed).",
    )


def _one_entry_per_folder(entries: list[Ecosystem]) -> list[Ecosystem]:
    # GitHub refuses a dependabot.yml with two updates for the same ecosystem and folder.
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        for folder in entry.directories:
            if (entry.ecosystem, folder) in seen:
                raise ValueError(
                    f"{entry.ecosystem} in {folder} listed more than once: Dependabot takes one "
                    "entry per ecosystem and folder"
                )
            seen.add((entry.ecosystem, folder))
    return entries


def _default_ecosystems() -> list[Ecosystem]:
    return [Ecosystem(ecosystem=e) for e in ("pip", "github-actions", "docker")]


class DependabotSettings(Model):
    ecosystems: Annotated[list[Ecosystem], AfterValidator(_one_entry_per_folder)] = Field(
        default_factory=_default_ecosystems,
        min_length=1,
        description="What Dependabot keeps up to date: each ecosystem and its folders.",
    )
    interval: Literal["daily", "weekly", "monthly"] = Field(
        "weekly", description="How often Dependabot looks for version updates."
    )
    day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = (
        Field("monday", description="The weekday of weekly updates.")
    )
    time: Annotated[str, pattern(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "a time as HH:MM")] = Field(
        "06:00", description="When, in the time zone below, as HH:MM."
    )
    timezone: Annotated[
        str, pattern(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", "an IANA time zone")
    ] = Field("Etc/UTC", description="The IANA time zone of `time`.")
    open_pull_requests_limit: Integer = Field(
        default=10,
        ge=0,
        le=100,
        description="The most version-update pull requests open at once per ecosystem (0 turns "
        "them off).",
    )
    group_minor_and_patch: bool = Field(
        True, description="One pull request for all minor and patch updates of an ecosystem."
    )
