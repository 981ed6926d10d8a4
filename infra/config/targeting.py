"""Which repositories a group applies to, like safe-settings' suborgs: a repository lists its
groups, or a group selects repositories by name, by name glob and by custom-property value.

Custom properties are GitHub's organisation-wide schema (`github.customProperties`, declared by
the stack that manages it) and the values each repository sets (`properties` in its own entry).
A group selects on the values the config declares (with the schema's default where a repository
sets none), never on what GitHub holds today: a plan is decided by the files under review.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pydantic
from pydantic import Field, model_validator

from infra.config.base import Model, Text, pattern, unique
from infra.config.errors import ConfigProblem, problems_from_validation

PropertyName = Annotated[
    str, pattern(r"^[A-Za-z0-9_-]{1,75}$", "a property name of letters, digits, _ and -")
]
PropertyText = Annotated[Text, Field(min_length=1, max_length=75)]
NameGlob = Annotated[
    str,
    pattern(r"^[A-Za-z0-9._*?\[\]-]{1,100}$", "a repository name or glob (* ? [...])"),
]
URL = re.compile(r"^https?://[^\s]+$")


class CustomProperty(Model):
    """One custom property of the organisation's schema (GitHub: Settings > Custom properties)."""

    value_type: Literal["string", "single_select", "multi_select", "true_false", "url"] = Field(
        "string", description="What a value is: text, one or several of allowedValues, "
        "true/false, or a URL."
    )  # fmt: skip
    allowed_values: Annotated[list[PropertyText], unique("value")] | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The values a single_select or multi_select property may take.",
    )
    default_value: PropertyText | None = Field(
        default=None, description="The value of a repository that sets none."
    )
    required: bool = Field(
        False, description="Every repository has a value (GitHub requires a defaultValue then)."
    )
    description: Text = Field("", max_length=255, description="What the property means.")
    values_editable_by: Literal["org_actors", "org_and_repo_actors"] = Field(
        "org_actors",
        description="Who may change a repository's value on GitHub: organisation owners only, "
        "or repository admins too (then the config and GitHub can disagree).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> CustomProperty:
        selects = self.value_type in ("single_select", "multi_select")
        if selects and not self.allowed_values:
            raise ValueError(f"a {self.value_type} property needs allowedValues")
        if not selects and self.allowed_values is not None:
            raise ValueError(f"allowedValues is for select properties, not {self.value_type}")
        if self.default_value is not None:
            problem = value_problem(self, self.default_value)
            if problem:
                raise ValueError(f"defaultValue {problem}")
        if self.required and self.default_value is None:
            raise ValueError("a required property needs a defaultValue (GitHub refuses it)")
        return self


def values_of(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def value_problem(schema: CustomProperty, value: Any) -> str | None:
    """What is wrong with `value` for a property of `schema`, or None."""
    kind = schema.value_type
    if kind == "true_false":
        return None if value in (True, False, "true", "false") else "must be true or false"
    if kind == "multi_select":
        if not isinstance(value, (list, str)) or not values_of(value):
            return "must be one or more of allowedValues"
    elif not isinstance(value, str):
        return f"must be one {'of allowedValues' if kind == 'single_select' else 'string'}"
    for item in values_of(value):
        if not isinstance(item, str) or not 1 <= len(item) <= 75:
            return "must be text of 1 to 75 characters"
        if schema.allowed_values is not None and item not in schema.allowed_values:
            return f"{item!r} is not one of {', '.join(schema.allowed_values)}"
        if kind == "url" and not URL.match(item):
            return f"{item!r} is not an http(s) URL"
    return None


def as_strings(value: Any) -> list[str]:
    """A value as GitHub stores it: strings, true/false in lower case."""
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values_of(value)]


SelectValue = Annotated[
    PropertyText | list[PropertyText] | bool,
    Field(description="The value to match: text, a list (any of its values) or true/false."),
]


class GroupSelect(Model):
    """The repositories a group applies to besides those that list it: any that matches."""

    repositories: Annotated[list[Annotated[str, pattern(r"^[A-Za-z0-9._-]{1,100}$",
                                                        "a repository name")]],
                            unique("repository")] = Field(
        default_factory=list, description="Repositories by exact name."
    )  # fmt: skip
    names: Annotated[list[NameGlob], unique("glob")] = Field(
        default_factory=list,
        description="Repositories whose name matches a glob (* any text, ? one character, "
        "[...] one of), as safe-settings' suborgs.",
    )
    properties: dict[PropertyName, SelectValue] = Field(
        default_factory=dict,
        description="Repositories whose custom property has this value (or one of these "
        "values); every property listed must match.",
    )

    def matches(self, repo: str, values: dict[str, list[str]]) -> bool:
        by_properties = bool(self.properties) and all(
            set(as_strings(wanted)) & set(values.get(name, []))
            for name, wanted in self.properties.items()
        )
        return (
            repo in self.repositories
            or any(fnmatch.fnmatchcase(repo, glob) for glob in self.names)
            or by_properties
        )


@dataclass
class Targets:
    """What targeting decided for every repository of a stack."""

    # Repository -> its groups in layer order: those it lists, in its order, then those that
    # select it, by name.
    groups: dict[str, list[str]] = field(default_factory=dict)
    # Repository -> property -> its value as GitHub stores it (the schema's default if unset).
    values: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # Repository -> property -> the value its own entry sets (what the stack declares on GitHub).
    declared: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)


def _selects(groups: dict[str, dict[str, Any]], t: Targets) -> dict[str, GroupSelect]:
    selects = {}
    for name, layer in sorted(groups.items()):
        if "select" not in layer:
            continue
        key = f"github.groups.{name}.select"
        try:
            selects[name] = GroupSelect.model_validate(layer["select"])
        except pydantic.ValidationError as exc:
            t.problems += [
                ConfigProblem(f"{key}.{p.path}" if p.path else key, p.message)
                for p in problems_from_validation(GroupSelect, exc)
            ]
    return selects


def _values(
    repo: str, entry: dict[str, Any], schema: dict[str, CustomProperty], t: Targets
) -> None:
    key = f"github.repositories.{repo}.properties"
    own = entry.get("properties", {})
    if not isinstance(own, dict):
        t.problems.append(ConfigProblem(key, "must be a mapping of property name to value"))
        own = {}
    declared: dict[str, list[str]] = {}
    for name, value in sorted(own.items()):
        prop = schema.get(name)
        if prop is None:
            t.problems.append(
                ConfigProblem(f"{key}.{name}", f"no custom property {name!r} in "
                              "github.customProperties")
            )  # fmt: skip
        elif problem := value_problem(prop, value):
            t.problems.append(ConfigProblem(f"{key}.{name}", problem))
        else:
            declared[name] = as_strings(value)
    t.declared[repo] = declared
    t.values[repo] = {
        name: declared.get(name) or as_strings(prop.default_value)
        for name, prop in schema.items()
        if name in declared or prop.default_value is not None
    }


def _select_problems(
    name: str, select: GroupSelect, repositories: dict[str, Any], schema: dict[str, CustomProperty]
) -> list[ConfigProblem]:
    key = f"github.groups.{name}.select"
    problems = [
        ConfigProblem(f"{key}.repositories", f"no repository {repo!r} in github.repositories")
        for repo in select.repositories
        if repo not in repositories
    ]
    for prop, wanted in sorted(select.properties.items()):
        schema_of = schema.get(prop)
        if schema_of is None:
            problems.append(
                ConfigProblem(f"{key}.properties.{prop}",
                              f"no custom property {prop!r} in github.customProperties")
            )  # fmt: skip
        elif problem := next(
            (p for v in values_of(wanted) if (p := value_problem(schema_of, v))), None
        ):
            problems.append(ConfigProblem(f"{key}.properties.{prop}", problem))
    return problems


def resolve_targets(
    groups: dict[str, dict[str, Any]],
    repositories: dict[str, dict[str, Any]],
    schema: dict[str, CustomProperty],
) -> Targets:
    t = Targets()
    selects = _selects(groups, t)
    for name, select in selects.items():
        t.problems += _select_problems(name, select, repositories, schema)
    for repo, entry in sorted(repositories.items()):
        _values(repo, entry, schema, t)
        listed = entry.get("groups", [])
        # A malformed list is the layering's to report (GitHubConfig); it selects nothing.
        listed = (
            listed if isinstance(listed, list) and all(isinstance(g, str) for g in listed) else []
        )
        selected = [
            g for g, s in selects.items() if g not in listed and s.matches(repo, t.values[repo])
        ]
        t.groups[repo] = [*listed, *selected]
    return t


def _leaves(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict) and value:
        found: dict[str, Any] = {}
        for key, inner in value.items():
            found.update(_leaves(f"{prefix}.{key}" if prefix else str(key), inner))
        return found
    return {prefix: value}


def order_problems(
    repo: str, listed: list[str], layers: list[tuple[str, dict[str, Any]]]
) -> list[ConfigProblem]:
    """Two group layers that set one key differently, where the repository did not order them
    by listing both: which one wins would depend on how groups happen to sort."""
    problems = []
    leaves = [(name, _leaves("", layer)) for name, layer in layers]
    for i, (first, a) in enumerate(leaves):
        for second, b in leaves[i + 1 :]:
            if first in listed and second in listed:
                continue
            for key in sorted(set(a) & set(b)):
                if a[key] != b[key]:
                    problems.append(
                        ConfigProblem(
                            f"github.groups.{second}.{key}",
                            f"github.groups.{first} also applies to {repo} and sets {key} "
                            f"otherwise; list both in github.repositories.{repo}.groups to "
                            "order them, or set it in one",
                        )
                    )
    return problems
