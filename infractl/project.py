"""Locate the Pulumi project and the stack settings file a command should use."""

from __future__ import annotations

from pathlib import Path

from infra.config.errors import ConfigError, ConfigProblem
from infractl.stackfile import known_stacks, stack_file_path


class UsageError(Exception):
    """A command line that cannot be carried out; exit code 2."""


def find_project(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise UsageError(f"no Pulumi.yaml in {start} or any parent folder; run from the project")


def resolve_stack_file(project: Path, stack: str, config_file: str | None) -> Path:
    """Like `pulumi --config-file`: an explicit file wins over `Pulumi.<stack>.yaml`."""
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(str(path), [ConfigProblem("", "config file not found")])
        return path
    path = stack_file_path(project, stack)
    if not path.is_file():
        stacks = ", ".join(known_stacks(project)) or "none"
        raise UsageError(f"no stack '{stack}': {path.name} not found (stacks here: {stacks})")
    return path
