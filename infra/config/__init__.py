"""Typed stack configuration: the model, its validation and its error reporting."""

from infra.config.errors import ConfigError, ConfigProblem
from infra.config.loader import runtime_config, runtime_secret_keys, validate_stack_config
from infra.config.model import StackConfig

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "StackConfig",
    "runtime_config",
    "runtime_secret_keys",
    "validate_stack_config",
]
