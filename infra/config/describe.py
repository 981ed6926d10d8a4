"""The config describes itself: every key of the `tbcoin-platform:` namespace, from the model.

One mechanism: the models' JSON Schema (descriptions from each field's `Field(description=...)`,
defaults, bounds, units from the shared types of `infra.config.base`), generated here once.
From it come the JSON Schema of a stack file that editors read (yaml-language-server), the key
list that docs/reference/config.md and `infractl explain` show, and, joined with the floor's
one table (`infra.config.floor`), each key's floor per stack with its reason.
"""

from __future__ import annotations

import copy
import functools
import json
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from infra.config.base import PATTERN_WORDS
from infra.config.errors import NAMESPACE
from infra.config.github import RepositorySettings
from infra.config.loader import PROVIDER_NAMESPACES
from infra.config.model import StackConfig

# A repository's settings may be given in any of these layers; a key is listed once, below the
# repository (whose effective settings they are).
REPOSITORY = "github.repositories.<repo>"
LAYERS = ("github.defaults", "github.groups.<group>", REPOSITORY)
# The name standing for any key of a mapping, by the mapping's key.
NAMES = {
    "environments": "<env>",
    "services": "<service>",
    "groups": "<group>",
    "repositories": "<repo>",
    "secrets": "<secret>",
    "actionPins": "<owner/repo>",
    "routes": "<severity>",
    "labels": "<label>",
}


class _Generator(GenerateJsonSchema):
    """Defaults made by a factory are stated too (pydantic leaves them out)."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            return factory()  # type: ignore[call-arg]
        return super().get_default_value(schema)

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # titles restate the key's own name

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        json_schema.pop("title", None)
        return json_schema


@functools.cache
def _schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON Schema of the stack config and of a repository's settings, sharing $defs."""
    (stack, settings), top = models_json_schema(
        [(StackConfig, "validation"), (RepositorySettings, "validation")],
        by_alias=True,
        schema_generator=_Generator,
        ref_template="#/$defs/{model}",
    )
    return top, {"stack": stack, "settings": settings}


_BOUND_KEYWORDS = {
    "gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum",
}  # fmt: skip


def _standard(node: Any) -> None:
    """Bounds behind a before-validator come out under pydantic's own names (`ge`): give them
    JSON Schema's, which editors and validators read."""
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            for ours, theirs in _BOUND_KEYWORDS.items():
                if ours in node:
                    node[theirs] = node.pop(ours)
        for value in node.values():
            _standard(value)
    elif isinstance(node, list):
        for value in node:
            _standard(value)


def _set_values(mapping: dict[str, Any], values: dict[str, Any]) -> None:
    """Say what each value of a mapping of names is (wherever the schema put it)."""
    if "patternProperties" in mapping:
        mapping["patternProperties"] = dict.fromkeys(mapping["patternProperties"], values)
    else:
        mapping["additionalProperties"] = values


def _repository_layers(defs: dict[str, Any]) -> None:
    """The GitHub section's layers are partial repository settings (validated as such while
    parsing); say so in the schema, and that a repository's own layer also lists its groups."""
    github = defs["GitHubConfig"]["properties"]
    layer = {"$ref": "#/$defs/RepositorySettings"}
    github["defaults"] = {**layer, "description": github["defaults"]["description"]}
    _set_values(github["groups"], layer)
    entry = copy.deepcopy(defs["RepositorySettings"])
    entry["properties"]["groups"] = {
        "type": "array",
        "items": {"type": "string"},
        "description": "The groups whose settings apply, in order, between the defaults and "
        "the repository's own.",
    }
    defs["RepositoryEntry"] = entry
    _set_values(github["repositories"], {"$ref": "#/$defs/RepositoryEntry"})


@functools.cache
def namespace_schema() -> dict[str, Any]:
    """The JSON Schema of the `tbcoin-platform:` namespace: one property per section."""
    top, _ = _schemas()
    defs = copy.deepcopy(top["$defs"])
    _repository_layers(defs)
    _closed(defs)
    _standard(defs)
    stack = defs.pop("StackConfig")
    # In a stack file a secret's value is the engine's encrypted form.
    _set_values(
        stack["properties"]["secrets"],
        {
            "type": "object",
            "properties": {
                "secure": {"type": "string", "description": "The value, encrypted by Pulumi."}
            },
            "required": ["secure"],
            "additionalProperties": False,
        },
    )
    return {"sections": stack["properties"], "required": stack["required"], "$defs": defs}


def stack_file_schema() -> dict[str, Any]:
    """The JSON Schema of a `Pulumi.<stack>.yaml` of this project, for editors."""
    namespace = namespace_schema()
    sections = {f"{NAMESPACE}:{k}": v for k, v in namespace["sections"].items()}
    providers = "|".join(sorted(PROVIDER_NAMESPACES))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": "Generated from the config model by `infractl config schema`; do not edit.",
        "title": "Pulumi stack settings of tbcoin-platform",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": sections,
                "required": [f"{NAMESPACE}:{k}" for k in namespace["required"]],
                # The providers' own namespaces, which this project does not describe.
                "patternProperties": {f"^({providers}):": {}},
                "additionalProperties": False,
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
        },
        "additionalProperties": False,
        "$defs": namespace["$defs"],
    }


def _models(annotation: Any, seen: dict[str, type[BaseModel]]) -> None:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        _models(typing.get_args(annotation)[0], seen)
    elif origin in (typing.Union, types.UnionType, list, dict):
        for arg in typing.get_args(annotation):
            _models(arg, seen)
    elif (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and annotation.__name__ not in seen
    ):
        seen[annotation.__name__] = annotation
        for field in annotation.model_fields.values():
            _models(field.annotation, seen)


@functools.cache
def models() -> dict[str, type[BaseModel]]:
    """Every model of the stack config and of a repository's settings, by class name."""
    found: dict[str, type[BaseModel]] = {}
    _models(StackConfig, found)
    _models(RepositorySettings, found)
    return found


@functools.cache
def renamed() -> dict[str, str]:
    """Every key of an older vocabulary (any model's RENAMED), with what replaced it."""
    return {
        old: new
        for model in models().values()
        for old, new in getattr(model, "RENAMED", {}).items()
    }


@dataclass(frozen=True)
class Key:
    """One key of the namespace as the reference and `explain` show it."""

    path: str  # dotted, below the namespace; `<name>` for any key of a mapping, `[]` a list item
    description: str
    kind: str  # what the value is, in words: "a duration (1s to 7d)", "a ratio", "true or false"
    default: Any  # the default as JSON, or REQUIRED / NONE
    section: bool  # a mapping of keys of its own


REQUIRED, NONE = "(required)", "(none)"


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The schema a `$ref` (or an optional's `anyOf [X, null]`) stands for, merged with the
    description and default stated beside it."""
    outer = {k: v for k, v in node.items() if k not in ("$ref", "anyOf")}
    if "$ref" in node:
        inner = defs[node["$ref"].rsplit("/", 1)[1]]
        return {**_resolve(inner, defs), **outer}
    options = node.get("anyOf")
    if options is not None:
        real = [o for o in options if o.get("type") != "null"]
        if len(real) == 1 and (len(real) < len(options) or "$ref" in real[0]):
            return {**_resolve(real[0], defs), **outer}
    return node


def _bounds(node: dict[str, Any]) -> str:
    low, high = (
        node.get("minimum", node.get("x-minimum")),
        node.get("maximum", node.get("x-maximum")),
    )
    above, below = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")
    if low is not None and high is not None and above is None and below is None:
        parts = [f"{low} to {high}"]
    else:
        parts = [
            *([f"above {above}"] if above is not None else []),
            *([f"at least {low}"] if low is not None and above is None else []),
            *([f"below {below}"] if below is not None else []),
            *([f"at most {high}"] if high is not None and below is None else []),
        ]
    if node.get("x-step"):
        parts.append(f"whole {node['x-step']}")
    return f" ({', '.join(parts)})" if parts else ""


def _kind(node: dict[str, Any], defs: dict[str, Any]) -> str:
    node = _resolve(node, defs)
    unit = node.get("x-unit")
    numbers = [o for o in node.get("anyOf", []) if o.get("type") in ("number", "integer")]
    if unit == "duration":
        return "a duration such as 500ms, 30s, 10m, 1h, 7d" + _bounds(node)
    if unit == "ratio":
        return "a ratio (0.05 is 5%)" + _bounds(numbers[0] if numbers else node)
    if unit == "quantity":
        return "a Kubernetes quantity such as 250m, 512Mi, 2Gi"
    if "enum" in node or "const" in node:
        return "one of " + ", ".join(json.dumps(v) for v in node.get("enum", [node.get("const")]))
    if node.get("type") == "integer":
        return "an integer" + _bounds(node)
    if numbers:
        return "a number" + _bounds(numbers[0])
    if node.get("type") == "boolean":
        return "true or false"
    if node.get("type") == "string":
        return _string(node.get("pattern"))
    if node.get("type") == "array":
        return "a list"
    if "oneOf" in node or "discriminator" in node:
        return "one of: " + ", ".join(sorted(node.get("discriminator", {}).get("mapping", {})))
    if "anyOf" in node:
        return " or ".join(_kind(o, defs) for o in node["anyOf"] if o.get("type") != "null")
    return "a mapping"


def _string(regex: str | None) -> str:
    # A pattern in the words its type gives it; a bare regex as code (it reads as Markdown).
    if regex is None:
        return "a string"
    return PATTERN_WORDS.get(regex) or f"a string matching `{regex}`"


def _default(node: dict[str, Any], required: bool) -> Any:
    if "default" in node:
        return node["default"]
    return REQUIRED if required else NONE


def _values(node: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of each value of a mapping of names (None if `node` is not one)."""
    if node.get("type") != "object" or node.get("properties"):
        return None
    values = node.get("additionalProperties")
    named = list(node.get("patternProperties", {}).values())
    return values if isinstance(values, dict) else (named[0] if len(named) == 1 else None)


def _closed(node: Any) -> None:
    """A mapping whose names must match a pattern has no other names (as the model refuses
    them): say so, so that an editor flags a misspelt name too."""
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _closed(value)
    elif isinstance(node, list):
        for value in node:
            _closed(value)


def _children(node: dict[str, Any], defs: dict[str, Any]) -> Iterator[tuple[str, dict, bool]]:
    """(segment, schema, required) of each key below a mapping-like schema."""
    node = _resolve(node, defs)
    required = set(node.get("required", []))
    for name, child in node.get("properties", {}).items():
        yield name, child, name in required
    for option in node.get("oneOf", []):  # a tagged union: every variant's keys, once each
        yield from _children(option, defs)


def _walk(path: str, node: dict[str, Any], required: bool, defs: dict[str, Any]) -> Iterator[Key]:
    resolved = _resolve(node, defs)
    own_keys = bool(resolved.get("properties") or resolved.get("oneOf"))
    items = resolved.get("items") if resolved.get("type") == "array" else None
    values = _values(resolved)
    mapping = values is not None
    if own_keys:
        kind = "a mapping of keys"
    elif values is not None:
        kind = f"a mapping of names to {_kind(values, defs)}"
    else:
        kind = _kind(node, defs)
    nested_items = items is not None and bool(_resolve(items, defs).get("properties"))
    description = str(node.get("description") or resolved.get("description") or "")
    yield Key(
        path, description, kind, _default(node, required), own_keys or mapping or nested_items
    )
    if own_keys:
        seen: set[str] = set()
        tag = resolved.get("discriminator", {}).get("propertyName")
        if tag is not None:  # a tagged union: its tag takes each variant's name
            variants = {
                name: _resolve(defs[ref.rsplit("/", 1)[1]], defs)["properties"][tag]
                for name, ref in sorted(resolved["discriminator"]["mapping"].items())
            }
            yield Key(
                f"{path}.{tag}",
                "; ".join(f"{name}: {v.get('description', '')}" for name, v in variants.items()),
                "one of " + ", ".join(json.dumps(name) for name in variants),
                REQUIRED,
                False,
            )
            seen.add(tag)
        for name, child, needed in _children(resolved, defs):
            if name not in seen:
                seen.add(name)
                yield from _walk(f"{path}.{name}", child, needed, defs)
    elif values is not None:
        segment = NAMES.get(path.rsplit(".", 1)[-1], "<name>")
        inner = _resolve(values, defs)
        nested = bool(inner.get("properties") or inner.get("oneOf"))
        kind = "a mapping of keys" if nested else _kind(values, defs)
        yield Key(f"{path}.{segment}", str(inner.get("description", "")), kind, NONE, nested)
        for name, child, needed in _children(values, defs):
            yield from _walk(f"{path}.{segment}.{name}", child, needed, defs)
    elif items is not None and _resolve(items, defs).get("properties"):
        for name, child, needed in _children(items, defs):
            yield from _walk(f"{path}[].{name}", child, needed, defs)


@functools.cache
def keys() -> dict[str, Key]:
    """Every key of the namespace by its path; a repository's settings below REPOSITORY."""
    namespace = namespace_schema()
    defs = namespace["$defs"]
    found: dict[str, Key] = {}
    for name, node in namespace["sections"].items():
        for key in _walk(name, node, name in namespace["required"], defs):
            # The layers before the repository's are the same settings: listed once, below it.
            if key.path.startswith(("github.defaults.", "github.groups.<group>.")):
                continue
            found.setdefault(key.path, key)
    return found


def canonical(key: str) -> str | None:
    """`key` as written by a user (a concrete name, a layer, an index, the namespace) as the
    path `keys()` lists it under; None if there is no such key."""
    path = key.removeprefix(f"{NAMESPACE}:").replace("[]", "").strip(".")
    parts = [p for p in path.replace("[", ".[").split(".") if p and not p.startswith("[")]
    if parts[:2] == ["github", "defaults"]:
        parts = ["github", "repositories", "<repo>", *parts[2:]]
    elif parts[:2] == ["github", "groups"] and len(parts) > 2:
        parts = ["github", "repositories", "<repo>", *parts[3:]]
    known = keys()

    def exists(candidate: str) -> bool:
        return any(
            k == candidate or k.startswith((f"{candidate}.", f"{candidate}[")) for k in known
        )

    def search(prefix: str, rest: list[str]) -> str | None:
        if not rest:
            return prefix if prefix in known else None
        base = f"{prefix}." if prefix else ""
        names = {k[len(base) :].split(".")[0] for k in known if k.startswith(f"{base}<")}
        # The segment is a key, a key of a list's items, or a name in a mapping.
        for candidate in (base + rest[0], f"{prefix}[].{rest[0]}", *(base + n for n in names)):
            if exists(candidate) and (found := search(candidate, rest[1:])) is not None:
                return found
        return None

    return search("", parts)
