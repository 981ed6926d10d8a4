"""Turn the engine's flat config map into one validated `StackConfig`.

The same function serves the real engine (values arrive through `pulumi.runtime.config`) and the
offline harness (which feeds the map it read from `Pulumi.<stack>.yaml`), so both refuse the same
input with the same words.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pydantic

from infra.config.errors import NAMESPACE, ConfigError, ConfigProblem, problems_from_validation
from infra.config.model import StackConfig
from infra.github.checks import governance_problems

# Namespaces whose keys configure a provider, not this program; allowed beside our own.
PROVIDER_NAMESPACES = frozenset({"kubernetes", "github", "docker", "pulumi"})


def _split(full_key: str) -> tuple[str, str]:
    namespace, _, rest = full_key.partition(":")
    # The engine may hand over keys in the legacy "<ns>:config:<key>" form.
    return namespace, rest.removeprefix("config:")


def _decode(value: Any) -> Any:
    """Structured config arrives JSON-encoded, scalars as plain strings."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_stack_config(source: str, flat: Mapping[str, Any]) -> StackConfig:
    """Validate the `<namespace>:<key>` map; raise ConfigError naming `source` and each key."""
    sections: dict[str, Any] = {}
    problems: list[ConfigProblem] = []
    for full_key, value in sorted(flat.items()):
        namespace, key = _split(full_key)
        if namespace == NAMESPACE:
            sections[key] = _decode(value)
        elif namespace not in PROVIDER_NAMESPACES:
            hint = difflib.get_close_matches(namespace, [NAMESPACE, *PROVIDER_NAMESPACES], n=1)
            why = (
                f"did you mean '{hint[0]}:{key}'?" if hint else "not a namespace this project reads"
            )
            problems.append(ConfigProblem(key, f"unknown config namespace; {why}", namespace))
    try:
        config = StackConfig.model_validate(sections)
        problems.extend(config.problems())
        problems.extend(governance_problems(config.github))
    except pydantic.ValidationError as exc:
        problems.extend(problems_from_validation(StackConfig, exc))
        config = None
    if problems or config is None:
        raise ConfigError(source, problems)
    return config


def runtime_config_keys() -> Iterable[str]:
    from pulumi.runtime import config as runtime_config

    return {*runtime_config.CONFIG.get(), *runtime_config.get_config_env()}


def load_from_runtime(source: str) -> StackConfig:
    """Read the config the engine (or the mocks) gave this program run."""
    from pulumi.runtime import config as runtime_config

    flat = {key: runtime_config.get_config(key) for key in runtime_config_keys()}
    return parse_stack_config(source, flat)
