"""Read `Pulumi.<stack>.yaml` into the flat config map the engine hands a program.

Mirrors the engine: keys without a namespace belong to the project, scalars travel as strings,
structured values as JSON, and a key holding any `secure:` value is a secret key. Encrypted values
cannot be decrypted offline; they are replaced by a placeholder that is still marked secret.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.config.credentials import credential_problems
from infra.config.documents import DocumentError, load_yaml
from infra.config.errors import NAMESPACE, ConfigError, ConfigProblem

SECRET_PLACEHOLDER = "[secret]"
# The engine hands the whole config to the program and to the policy pack in one environment
# variable (PULUMI_CONFIG, JSON), and Linux refuses to start a process with an environment string
# longer than this (MAX_ARG_STRLEN): past it nothing starts, whatever else is right.
ENGINE_CONFIG_LIMIT = 128 * 1024


@dataclass
class StackFile:
    path: Path
    config: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)


def stack_file_path(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def known_stacks(project_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _reveal(value: Any) -> tuple[Any, bool]:
    """Replace `secure:` nodes by the placeholder; report whether any were present."""
    if _is_secure(value):
        return SECRET_PLACEHOLDER, True
    if isinstance(value, dict):
        pairs = [(k, _reveal(v)) for k, v in value.items()]
        return {k: v for k, (v, _) in pairs}, any(s for _, (_, s) in pairs)
    if isinstance(value, list):
        items = [_reveal(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _as_engine_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return "" if value is None else str(value)


def _non_finite(path: str, value: Any) -> list[str]:
    """Key paths holding `.nan` or `.inf`: no setting takes one, and the engine's JSON cannot
    carry it, so without this the whole section would be refused instead of the key."""
    if isinstance(value, float) and not math.isfinite(value):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(f"{path}.{k}", v)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _non_finite(f"{path}[{i}]", v)]
    return []


def read_stack_file(path: Path, label: str | None = None) -> StackFile:
    """Parse a stack settings file; any problem raises ConfigError naming the file."""
    source = label or path.name
    try:
        document = load_yaml(path)
    except DocumentError as exc:
        raise ConfigError(source, [ConfigProblem("", str(exc))]) from None
    document = {} if document is None else document
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ConfigError(
            source, [ConfigProblem("", "expected a mapping with a `config:` mapping inside")]
        )
    stack = StackFile(path=path)
    problems: list[ConfigProblem] = []
    for raw_key, raw_value in (document.get("config") or {}).items():
        key = str(raw_key) if ":" in str(raw_key) else f"{NAMESPACE}:{raw_key}"
        problems += credential_problems(key, raw_value, _is_secure)
        namespace, _, name = key.partition(":")
        problems += [
            ConfigProblem(path, "must be a finite number (got .nan or .inf)", namespace)
            for path in _non_finite(name, raw_value)
        ]
        value, secret = _reveal(raw_value)
        stack.config[key] = _as_engine_string(value)
        if secret:
            stack.secret_keys.append(key)
    problems += _too_large(stack.config)
    if problems:
        raise ConfigError(source, problems)
    return stack


def engine_config_bytes(config: dict[str, str]) -> int:
    """The size of PULUMI_CONFIG as the engine writes it (Go's json.Marshal: sorted keys, UTF-8,
    `<`, `>` and `&` escaped to six bytes each), its name and terminating NUL included."""
    text = json.dumps(config, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    escaped = 5 * sum(text.count(c) for c in "<>&")
    return len(f"PULUMI_CONFIG={text}".encode()) + escaped + 1


def _too_large(config: dict[str, str]) -> list[ConfigProblem]:
    size = engine_config_bytes(config)
    if size <= ENGINE_CONFIG_LIMIT:
        return []
    largest = max(config, key=lambda k: len(config[k]))
    namespace, _, name = largest.partition(":")
    return [
        ConfigProblem(
            name,
            f"the stack's config is {size / 1024:.0f} KiB as the engine passes it (one environment "
            f"variable, which Linux limits to {ENGINE_CONFIG_LIMIT // 1024} KiB), so the engine "
            "could not start the policy pack; this key is the largest "
            f"({len(config[largest]) / 1024:.0f} KiB): split the stack "
            "(docs/runbooks/github-estate-scale.md)",
            namespace,
        )
    ]
