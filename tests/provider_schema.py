"""Validate captured resource inputs against the pinned providers' own schemas.

GitHub: the pulumi-github v6.15.0 schema (vendor/pulumi-github-schema/). It carries no enums (the
provider is bridged from Terraform), so the allowed values of the inputs this project sets are
taken from terraform-provider-github v6.13.0's `validation.StringInSlice` calls, cited per row.
Docker: the schema is derived from the installed pulumi-docker 5.2.0 SDK itself (its input types,
required arguments, enums and deprecation warnings), read through Pulumi's own type machinery.
"""

from __future__ import annotations

import difflib
import enum
import inspect
import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any, get_args, get_origin

import pulumi._types as pulumi_types

from tests.conftest import vendored

Schema = dict[str, Any]

# (type token, input path) -> allowed values; `[]` steps into a list, `*` into a map's values.
GITHUB_ENUMS: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("github:index/repository:Repository", "visibility"): (
        ("public", "private", "internal"), "resource_github_repository.go:66"),
    ("github:index/repository:Repository", "securityAndAnalysis.*.status"): (
        ("enabled", "disabled"), "resource_github_repository.go:107-187"),
    ("github:index/repositoryRuleset:RepositoryRuleset", "target"): (
        ("branch", "push", "tag"), "resource_github_repository_ruleset.go:19,45"),
    ("github:index/repositoryRuleset:RepositoryRuleset", "enforcement"): (
        ("disabled", "active", "evaluate"), "resource_github_repository_ruleset.go:57"),
    ("github:index/repositoryRuleset:RepositoryRuleset", "bypassActors[].actorType"): (
        ("RepositoryRole", "Team", "Integration", "OrganizationAdmin", "DeployKey",
         "EnterpriseOwner", "User"), "resource_github_repository_ruleset.go:76"),
    ("github:index/repositoryRuleset:RepositoryRuleset", "bypassActors[].bypassMode"): (
        ("always", "pull_request", "exempt"), "resource_github_repository_ruleset.go:82"),
    ("github:index/repositoryRuleset:RepositoryRuleset",
     "rules.pullRequest.allowedMergeMethods[]"): (
        ("merge", "squash", "rebase"), "resource_github_repository_ruleset.go:205"),
    ("github:index/actionsRepositoryPermissions:ActionsRepositoryPermissions", "allowedActions"): (
        ("all", "local_only", "selected"), "resource_github_actions_repository_permissions.go:27"),
    ("github:index/workflowRepositoryPermissions:WorkflowRepositoryPermissions",
     "defaultWorkflowPermissions"): (
        ("read", "write"), "resource_github_workflow_repository_permissions.go:26"),
    ("github:index/repositoryPages:RepositoryPages", "buildType"): (
        ("legacy", "workflow"), "resource_github_repository_pages.go:74"),
}  # fmt: skip


@cache
def github_schema() -> Schema:
    text = vendored("pulumi-github-schema", "schema-v6.15.0-trimmed.json").read_text()
    return dict(json.loads(text))


# --- Docker: the schema of the installed SDK -----------------------------------------------

_DEPRECATED = re.compile(r'pulumi\.log\.warn\("""(\w+) is deprecated')


def _spec(typ: Any, types: Schema) -> Schema:
    typ = pulumi_types.unwrap_type(typ)
    if typ is str:
        return {"type": "string"}
    if typ is bool:
        return {"type": "boolean"}
    if typ is int:
        return {"type": "integer"}
    if typ is float:
        return {"type": "number"}
    if inspect.isclass(typ) and issubclass(typ, enum.Enum):
        return {"type": "string", "enum": [m.value for m in typ]}
    if inspect.isclass(typ) and pulumi_types.is_input_type(typ):
        token = f"sdk:{typ.__module__}.{typ.__qualname__}"
        if token not in types:
            types[token] = {}  # recursion guard
            types[token] = _object_schema(typ, types)
        return {"$ref": f"#/types/{token}"}
    origin, args = get_origin(typ), get_args(typ)
    if origin in (list, tuple) or str(origin).endswith("Sequence'>"):
        return {"type": "array", "items": _spec(args[0], types)}
    if origin is dict or str(origin).endswith("Mapping'>"):
        return {"type": "object", "additionalProperties": _spec(args[1], types)}
    raise TypeError(f"no schema for {typ!r}")


def _object_schema(args_cls: type, types: Schema) -> Schema:
    names = pulumi_types.input_type_py_to_pulumi_names(args_cls)
    params = inspect.signature(args_cls.__init__).parameters
    deprecated = set(_DEPRECATED.findall(inspect.getsource(args_cls.__init__)))
    properties = {}
    for name, typ in pulumi_types.input_type_types(args_cls).items():
        spec = _spec(typ, types)
        py = next(p for p, n in names.items() if n == name)
        if py in deprecated or name in deprecated:
            spec["deprecationMessage"] = f"{name} is deprecated (SDK warning)"
        properties[name] = spec
    required = [names[p] for p, v in params.items() if p in names and v.default is v.empty]
    return {"type": "object", "properties": properties, "required": required}


def sdk_resource_schema(token: str, args_cls: type) -> Schema:
    types: Schema = {}
    shape = _object_schema(args_cls, types)
    resource = {"inputProperties": shape["properties"], "requiredInputs": shape["required"]}
    return {"resources": {token: resource}, "types": types}


@cache
def docker_schema() -> Schema:
    import pulumi_docker

    return sdk_resource_schema("docker:index/image:Image", pulumi_docker.ImageArgs)


# --- Validation ----------------------------------------------------------------------------

_KIND = {"string": str, "boolean": bool, "integer": int, "number": (int, float)}


def _check(value: Any, spec: Schema, path: str, schema: Schema, out: list[str]) -> None:
    if "$ref" in spec:
        token = spec["$ref"].removeprefix("#/types/")
        shape = schema["types"][token]
        _check_object(
            value, shape.get("properties", {}), shape.get("required", []), path, schema, out
        )
        return
    kind = spec.get("type")
    if kind == "array":
        if not isinstance(value, list):
            out.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            _check(item, spec["items"], f"{path}[{i}]", schema, out)
    elif kind == "object":
        if not isinstance(value, dict):
            out.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        for key, item in value.items():
            _check(item, spec.get("additionalProperties", {}), f"{path}.{key}", schema, out)
    elif kind in _KIND:
        python = _KIND[kind]
        if isinstance(value, bool) != (kind == "boolean") or not isinstance(value, python):
            out.append(f"{path}: expected {kind}, got {json.dumps(value)}")
        elif "enum" in spec and value not in spec["enum"]:
            out.append(f"{path}: {value!r} is not one of {spec['enum']}")


def _check_object(
    value: Any, properties: Schema, required: list[str], path: str, schema: Schema, out: list[str]
) -> None:
    if not isinstance(value, dict):
        out.append(f"{path}: expected an object, got {type(value).__name__}")
        return
    prefix = f"{path}." if path else ""
    for key in required:
        if key not in value:
            out.append(f"{prefix}{key}: required input missing")
    for key, item in value.items():
        spec = properties.get(key)
        if spec is None:
            hint = difflib.get_close_matches(key, properties, n=1)
            out.append(
                f"{prefix}{key}: not an input" + (f"; did you mean {hint[0]!r}?" if hint else "")
            )
            continue
        if "deprecationMessage" in spec:
            out.append(f"{prefix}{key}: deprecated: {spec['deprecationMessage'].strip()}")
        _check(item, spec, f"{prefix}{key}", schema, out)


def _enum_values(value: Any, steps: list[str]) -> list[Any]:
    """The values found at a GITHUB_ENUMS path."""
    if not steps:
        return [value]
    step, rest = steps[0], steps[1:]
    if not isinstance(value, dict):
        return []
    if step == "*":
        return [v for item in value.values() for v in _enum_values(item, rest)]
    if step.endswith("[]"):
        items = value.get(step[:-2])
        return [v for item in items or [] for v in _enum_values(item, rest)]
    return _enum_values(value[step], rest) if step in value else []


def validate(resource: Mapping[str, Any], schema: Schema) -> list[str]:
    """Problems with one captured resource's inputs, each `<type> <name>: <path>: <why>`."""
    token, inputs = resource["type"], resource["inputs"]
    spec = schema["resources"].get(token)
    if spec is None:
        return [f"{token} {resource['name']}: not a resource of the pinned provider"]
    out: list[str] = []
    _check_object(
        inputs, spec.get("inputProperties", {}), spec.get("requiredInputs", []), "", schema, out
    )
    for (enum_token, path), (allowed, _source) in GITHUB_ENUMS.items():
        if enum_token != token:
            continue
        for value in _enum_values(inputs, path.split(".")):
            if value not in allowed:
                out.append(f"{path}: {value!r} is not one of {list(allowed)}")
    return [f"{token} {resource['name']}: {problem}" for problem in out]
