"""Policy waivers: reviewed, expiring exceptions to one pack policy for the resources one selector
picks, one file per stack (`policies/waivers/<stack>.json`).

This model states what each field means and the rules a waiver keeps; `infractl` reads the file
through it (one line per problem, exit 2). The pack, which may import neither pydantic nor this
package, applies the same rules in plain code (policies/tbcoin_policies/waivers.py);
tests/test_waivers_agree.py holds both to the same verdict on every input it tries.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pydantic
from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from infra.config.base import DnsLabel, HttpsUrl, Model, Text, pattern
from infra.config.documents import DocumentError, load_json
from infra.config.errors import ConfigError, ConfigProblem, at, problems_from_validation

FOLDER = Path("policies") / "waivers"  # below the project, beside policies/config/
NAMESPACE = "waiver"
# How long one review may excuse a violation: a waiver is renewed by a new review, not left on.
MAX_DAYS = 90
# `infractl waivers` and the PR preview flag waivers this close to their expiry.
EXPIRING_DAYS = 14
# Moves "today" later than the clock, never earlier (an expired waiver cannot be revived), so a
# test or the e2e run can see a waiver expire without waiting.
TODAY_VARIABLE = "TBCOIN_WAIVERS_TODAY"
# Enough characters that a pattern cannot select nearly everything.
MIN_LITERAL = 3
MIN_REASON, MAX_REASON = 10, 500


def _date(text: str) -> str:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a calendar date") from None
    return text


Date = Annotated[
    str,
    pattern(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "a date as YYYY-MM-DD"),
    AfterValidator(_date),
]
Approver = Annotated[
    str,
    pattern(
        r"^@[A-Za-z0-9](-?[A-Za-z0-9])*(/[A-Za-z0-9._-]+)?$",
        "a GitHub @user or @org/team",
    ),
]
Urn = Annotated[
    str,
    pattern(
        r"^urn:pulumi:[!-9;-~]+::[!-9;-~]+::[!-~]+::[!-9;-~]+$",
        # Printable ASCII only: a URN is echoed to terminals and PR comments.
        "a Pulumi URN (urn:pulumi:<stack>::<project>::<type>::<name>) in printable ASCII",
        max_length=1000,
    ),
]
NamePattern = Annotated[
    str,
    pattern(
        r"^[A-Za-z0-9._*?-]{1,100}$",
        "a resource name pattern of letters, digits, '.', '_', '-' and the wildcards * and ?",
    ),
]


def _substantial(reason: str) -> str:
    if len(reason.strip()) < MIN_REASON:
        raise ValueError(f"must say why in at least {MIN_REASON} characters")
    return reason


Reason = Annotated[Text, AfterValidator(_substantial)]


def literal_characters(name_pattern: str) -> int:
    return len(re.sub(r"[*?]", "", name_pattern))


def today(
    clock: datetime.date | None = None, environ: Mapping[str, str] | None = None
) -> datetime.date:
    """The date waivers are judged on: the UTC date, or `TBCOIN_WAIVERS_TODAY` if later. A value
    that is not a date is a ConfigError."""
    import os

    real = clock or datetime.datetime.now(datetime.UTC).date()
    given = (os.environ if environ is None else environ).get(TODAY_VARIABLE, "")
    if not given:
        return real
    try:
        moved = datetime.date.fromisoformat(given)
    except ValueError:
        problem = ConfigProblem("", f"must be a date as YYYY-MM-DD (got {given!r})", TODAY_VARIABLE)
        raise ConfigError("environment", [problem]) from None
    return max(real, moved)


class Waiver(Model):
    """One exception: one policy, for the resources one selector picks, until a date."""

    policy: str = Field(
        description="The pack policy this waiver excuses; it must be marked waivable in "
        "docs/reference/policies.md."
    )
    urn: Urn | None = Field(
        default=None,
        description="The one resource excused, by its URN in this stack (the narrowest "
        "selector; give this or `name`).",
    )
    name: NamePattern | None = Field(
        default=None,
        description="The resources excused, by their name (the URN's last part) with * and ? "
        "as wildcards, for a resource whose URN changes; give this or `urn`.",
    )
    reason: Reason = Field(
        max_length=MAX_REASON,
        description="Why the violation is accepted for now and what will end it, in one line.",
    )
    approved_by: Approver = Field(
        description="Who approved the waiver: a GitHub @user or @org/team of the security "
        "owners, who review every change to the waivers files (CODEOWNERS)."
    )
    granted: Date = Field(description="The day the waiver was approved (YYYY-MM-DD, UTC).")
    expires: Date = Field(
        description=f"The first day the waiver no longer applies (YYYY-MM-DD, UTC), at most "
        f"{MAX_DAYS} days after `granted`."
    )
    ticket: HttpsUrl | None = Field(
        default=None, description="A link to the issue or ticket that tracks the fix."
    )

    @field_validator("policy")
    @classmethod
    def _waivable(cls, policy: str, info: ValidationInfo) -> str:
        policies: Mapping[str, bool] = (info.context or {}).get("policies", {})
        if policy not in policies:
            raise ValueError("no such policy in the pack")
        if not policies[policy]:
            raise ValueError("is not waivable (docs/reference/policies.md says why)")
        return policy

    @field_validator("urn")
    @classmethod
    def _this_stack(cls, urn: str | None, info: ValidationInfo) -> str | None:
        context = info.context or {}
        prefix = f"urn:pulumi:{context.get('stack')}::{context.get('project')}::"
        if urn is not None and not urn.startswith(prefix):
            raise ValueError(f"is not a resource of this stack (its URN starts with {prefix})")
        return urn

    @field_validator("name")
    @classmethod
    def _narrow(cls, name: str | None) -> str | None:
        if name is not None and literal_characters(name) < MIN_LITERAL:
            raise ValueError(
                f"needs at least {MIN_LITERAL} characters besides * and ?, so that it cannot "
                "select nearly every resource"
            )
        return name

    @model_validator(mode="after")
    def _selector_and_dates(self, info: ValidationInfo) -> Waiver:
        if (self.urn is None) == (self.name is None):
            raise at("", "give exactly one selector: `urn` or `name`")
        granted = datetime.date.fromisoformat(self.granted)
        expires = datetime.date.fromisoformat(self.expires)
        clock: datetime.date = (info.context or {}).get("clock") or datetime.date.max
        if granted > clock:
            raise at("granted", f"is after today ({clock.isoformat()})")
        if expires <= granted:
            raise at("expires", "must be after `granted`")
        if (expires - granted).days > MAX_DAYS:
            raise at("expires", f"must be at most {MAX_DAYS} days after `granted`")
        return self

    def selects(self, urn: str) -> bool:
        from fnmatch import fnmatchcase

        if self.urn is not None:
            return urn == self.urn
        return self.name is not None and fnmatchcase(urn.rsplit("::", 1)[-1], self.name)

    @property
    def selector(self) -> str:
        return f"urn {self.urn}" if self.urn is not None else f"name {self.name}"

    def first_day(self) -> datetime.date:
        return datetime.date.fromisoformat(self.granted)

    def end(self) -> datetime.date:
        return datetime.date.fromisoformat(self.expires)

    def live(self, on: datetime.date) -> bool:
        return self.first_day() <= on < self.end()


class _File(Model):
    """The file is a mapping of waiver name -> Waiver; validated under one key so that messages
    name the key paths below it."""

    waivers: dict[DnsLabel, Waiver]


@dataclass(frozen=True)
class WaiverFile:
    stack: str
    source: str  # the file as messages name it
    waivers: dict[str, Waiver]


def waivers_path(project: Path, stack: str) -> Path:
    return project / FOLDER / f"{stack}.json"


def validate_waivers(
    data: Any,
    *,
    stack: str,
    project: str,
    policies: Mapping[str, bool],
    clock: datetime.date,
) -> tuple[dict[str, Waiver], list[ConfigProblem]]:
    """The waivers of a parsed file, or the problems with it (key paths below the file)."""
    if not isinstance(data, dict):
        return {}, [ConfigProblem("", "must be a JSON object of waiver name -> waiver", NAMESPACE)]
    context = {"stack": stack, "project": project, "policies": policies, "clock": clock}
    try:
        return dict(_File.model_validate({"waivers": data}, context=context).waivers), []
    except pydantic.ValidationError as exc:
        problems = problems_from_validation(_File, exc)
        return {}, [
            ConfigProblem(p.path.removeprefix("waivers").removeprefix("."), p.message, NAMESPACE)
            for p in problems
        ]


def load_waivers(
    project: Path,
    stack: str,
    *,
    project_name: str,
    policies: Mapping[str, bool],
    clock: datetime.date | None = None,
) -> WaiverFile:
    """The stack's waivers file (none: no waivers); ConfigError naming the file and each key."""
    path = waivers_path(project, stack)
    source = str(path.relative_to(project)) if path.is_relative_to(project) else str(path)
    if not path.exists():
        return WaiverFile(stack, source, {})
    try:
        data = load_json(path)
    except DocumentError as exc:
        raise ConfigError(source, [ConfigProblem("", str(exc), NAMESPACE)]) from None
    waivers, problems = validate_waivers(
        data,
        stack=stack,
        project=project_name,
        policies=policies,
        clock=clock or datetime.datetime.now(datetime.UTC).date(),
    )
    if problems:
        raise ConfigError(source, problems)
    return WaiverFile(stack, source, waivers)
