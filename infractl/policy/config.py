"""Per-stack policy config, in the format `pulumi preview --policy-pack-config` takes, merged with
each policy's schema defaults the way the engine merges it before calling `Configure`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from infra.config.documents import DocumentError, load_json
from infra.config.errors import ConfigError, ConfigProblem
from infra.config.floor import parameter_bounds, stack_floor

LEVELS = {"advisory", "mandatory", "disabled", "remediate"}
# Parameters of an older vocabulary, with what replaced each: refused with these words.
RENAMED_PARAMETERS = {
    ("github-ruleset-reviews", "minApprovals"): "requiredApprovals, the name of the repository "
    "setting it holds to a minimum (branchRules.requiredApprovals)",
}


@dataclass(frozen=True)
class PolicySetting:
    enforcement: str
    properties: dict[str, Any]


def load_policy_config(path: Path) -> dict[str, Any]:
    def fail(message: str) -> ConfigError:
        return ConfigError(str(path), [ConfigProblem("", message, namespace="policy config")])

    try:
        data = load_json(path)
    except DocumentError as exc:
        raise fail(str(exc)) from None
    if not isinstance(data, dict):
        raise fail("expected a JSON object of policy name -> level or settings")
    if not data:  # it would leave every policy at its weakest default
        raise fail("is empty; it must give the stack's levels (at least `all`) and parameters")
    return data


def merge_policy_config(
    source: str, info: analyzer_pb2.AnalyzerInfo, config: dict[str, Any], stack: str
) -> dict[str, PolicySetting]:
    """Effective level and properties of every policy; ConfigError on unknown names or values,
    and on a policy the stack's security floor keeps mandatory set to anything else."""
    problems: list[ConfigProblem] = []
    policies = {p.name: p for p in info.policies}
    floor = stack_floor(stack)
    mandatory = set(policies) if floor.mandatory_policies is None else floor.mandatory_policies
    parameters = parameter_bounds(stack)

    def problem(key: str, message: str) -> None:
        problems.append(ConfigProblem(key, message, namespace="policy"))

    for name in config:
        if name != "all" and name not in policies:
            problem(name, "no such policy in the pack")
    default = config.get("all")
    if default is not None and default not in LEVELS:
        problem("all", f"must be one of {sorted(LEVELS)}")
    settings: dict[str, PolicySetting] = {}
    for name, policy in policies.items():
        raw = config.get(name, {})
        own = raw if isinstance(raw, dict) else {"enforcementLevel": raw}
        level = own.get(
            "enforcementLevel",
            default or analyzer_pb2.EnforcementLevel.Name(policy.enforcementLevel).lower(),
        )
        if level not in LEVELS:
            problem(name, f"enforcementLevel must be one of {sorted(LEVELS)} (got {level!r})")
            continue
        if name in mandatory and level != "mandatory":
            problem(
                name,
                f"is mandatory on stack '{stack}' (its security floor, infra/config/floor.py); "
                f"it cannot be {level}",
            )
        schema = json_format.MessageToDict(policy.configSchema)
        props = schema.get("properties", {})
        values = {k: v["default"] for k, v in props.items() if "default" in v}
        values |= {k: v for k, v in own.items() if k != "enforcementLevel"}
        for key in [k for k in values if (name, k) in RENAMED_PARAMETERS]:
            problem(f"{name}.{key}", f"renamed to {RENAMED_PARAMETERS[name, key]}")
            del values[key]
        validator = jsonschema.Draft7Validator(
            {
                "type": "object",
                "properties": props,
                "required": schema.get("required", []),
                "additionalProperties": False,
            }
        )
        for error in validator.iter_errors(values):
            where = ".".join(map(str, error.absolute_path))
            problem(f"{name}{'.' + where if where else ''}", error.message)
        for key in props:
            if (name, key) not in parameters:
                continue
            row, bound = parameters[name, key]
            if not bound.holds(values.get(key)):
                problem(
                    f"{name}.{key}",
                    f"below the security floor of stack '{stack}' (infra/config/floor.py): "
                    f"must be {bound.words} (got {json.dumps(values.get(key))}); {row.reason}",
                )
        settings[name] = PolicySetting(level, values)
    if problems:
        raise ConfigError(source, problems)
    return settings


def configure_request(settings: dict[str, PolicySetting]) -> analyzer_pb2.ConfigureAnalyzerRequest:
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, setting in settings.items():
        properties = struct_pb2.Struct()
        properties.update(setting.properties)
        request.policyConfig[name].CopyFrom(
            analyzer_pb2.PolicyConfig(
                enforcementLevel=analyzer_pb2.EnforcementLevel.Value(setting.enforcement.upper()),
                properties=properties,
            )
        )
    return request
