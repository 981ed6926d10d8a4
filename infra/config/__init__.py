"""Typed stack configuration: the model, its loader and its error reporting."""

from infra.config.errors import ConfigError, ConfigProblem
from infra.config.loader import load_from_runtime, parse_stack_config
from infra.config.model import StackConfig

__all__ = ["ConfigError", "ConfigProblem", "StackConfig", "load_from_runtime", "parse_stack_config"]
