"""Turn the engine's flat config map into one validated `StackConfig`.

The same function serves the real engine (values arrive through `pulumi.runtime.config`) and the
offline harness (which feeds the map it read from `Pulumi.<stack>.yaml`), so both refuse the same
input with the same words. Checks that need rendered output (e.g. the checks a workflow reports)
run above this package, in `infra.stack.load_stack`.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import Any

import pydantic

from infra.config.credentials import credential_problems
from infra.config.documents import DocumentError, parse_json
from infra.config.errors import NAMESPACE, ConfigProblem, problems_from_validation
from infra.config.model import StackConfig

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
            return parse_json(value)
        except DocumentError:  # not JSON, or beyond bounds: the model refuses the string
            return value
    return value


def validate_stack_config(
    flat: Mapping[str, Any], secret_keys: Collection[str] | None = None
) -> tuple[StackConfig | None, list[ConfigProblem]]:
    """Validate the `<namespace>:<key>` map: the model (None if it did not parse) and every
    problem found, each naming its full key.

    `secret_keys` is given when `flat` comes from the engine: a key with any encrypted part
    arrives decrypted and marked secret as a whole, every other key was plain text and is checked
    for credentials here. (The offline tools check the stack file itself, value by value.)"""
    sections: dict[str, Any] = {}
    problems: list[ConfigProblem] = [
        problem
        for key, value in sorted(flat.items())
        if secret_keys is not None and key not in secret_keys
        for problem in credential_problems(key, _decode(value), lambda _: False)
    ]
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
    except pydantic.ValidationError as exc:
        return None, [*problems, *problems_from_validation(StackConfig, exc)]
    return config, [*problems, *config.problems()]


def runtime_config() -> dict[str, Any]:
    """The flat config map the engine (or the mocks) gave this program run."""
    from pulumi.runtime import config as runtime

    keys = {*runtime.CONFIG.get(), *runtime.get_config_env()}
    return {key: runtime.get_config(key) for key in keys}


def runtime_secret_keys() -> set[str]:
    """The keys the engine marks secret: those with any `secure:` part in the stack file."""
    from pulumi.runtime import config as runtime

    return {key for key in runtime_config() if runtime.is_config_secret(key)}
