"""Typed stack configuration: the model, its validation and its error reporting.

The names below load on first use, so tools that need only a light module of this package (the
bounded readers in `documents`: `preview-report` and `drift --input`) do not pay for importing
the pydantic model."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.config.errors import ConfigError, ConfigProblem
    from infra.config.loader import runtime_config, runtime_secret_keys, validate_stack_config
    from infra.config.model import StackConfig

_EXPORTS = {
    "ConfigError": "infra.config.errors",
    "ConfigProblem": "infra.config.errors",
    "StackConfig": "infra.config.model",
    "runtime_config": "infra.config.loader",
    "runtime_secret_keys": "infra.config.loader",
    "validate_stack_config": "infra.config.loader",
}

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "StackConfig",
    "runtime_config",
    "runtime_secret_keys",
    "validate_stack_config",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
