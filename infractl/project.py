"""Locate the Pulumi project and the stack a command works on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from infractl.errors import UsageError
from infractl.stackfile import StackFile, known_stacks, read_stack_file, stack_file_path

if TYPE_CHECKING:
    from infra.config import StackConfig

# The Pulumi project name (Pulumi.yaml), as the engine tells it to the program and the pack.
PROJECT = "tbcoin-platform"


def find_project(start: Path) -> Path:
    """The folder of this project's Pulumi.yaml: `start` or the nearest parent holding one (as
    the pulumi CLI looks). Run from anywhere else, say where to run from instead."""
    from infra.config.documents import DocumentError, load_yaml
    from infra.config.errors import NAMESPACE  # Pulumi names the config namespace after the project

    where = f"run infractl from the {NAMESPACE} project folder (the one holding its Pulumi.yaml)"
    for folder in (start, *start.parents):
        if (folder / "Pulumi.yaml").is_file():
            try:
                project = load_yaml(folder / "Pulumi.yaml")
            except DocumentError as exc:
                raise UsageError(f"{folder / 'Pulumi.yaml'}: {exc}") from None
            name = project.get("name") if isinstance(project, dict) else None
            if name != NAMESPACE:
                raise UsageError(
                    f"{folder / 'Pulumi.yaml'} is the Pulumi project {name!r}, not {NAMESPACE}; "
                    f"{where}"
                )
            return folder
    raise UsageError(f"no Pulumi.yaml in {start} or any parent folder; {where}")


# A stack's own name (the last part of org/project/stack), for every command: Pulumi's characters,
# and a letter or digit first, so that a name passed on to `pulumi --stack` is never an option.
STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
STACK_NAME_RULE = "1-100 letters, digits, '_', '.' or '-', starting with a letter or digit"


def _exists(path: Path, source: str) -> bool:
    # Only existence: what is there (a folder, a FIFO, a device) is named when it is read.
    try:
        return path.exists()
    except OSError as exc:  # e.g. a name too long for the file system
        raise UsageError(f"{source}: {exc.strerror}") from None


def resolve_stack_file(project: Path, stack: str, config_file: str | None) -> Path:
    """Like `pulumi --config-file`: an explicit file wins over `Pulumi.<stack>.yaml`."""
    if not STACK_NAME.fullmatch(stack):
        raise UsageError(f"--stack {stack[:100]!r}: a stack name is {STACK_NAME_RULE}")
    if config_file:
        path = Path(config_file)
        if not _exists(path, f"--config-file {config_file}"):
            from infra.config import ConfigError, ConfigProblem

            raise ConfigError(str(path), [ConfigProblem("", "config file not found")])
        return path
    path = stack_file_path(project, stack)
    if not _exists(path, f"--stack {stack}"):
        stacks = ", ".join(known_stacks(project)) or "none"
        raise UsageError(f"no stack '{stack}': {path.name} not found (stacks here: {stacks})")
    return path


@dataclass
class Stack:
    """A stack as a command reads it: its settings file and, once loaded, its config."""

    name: str
    project: Path
    source: str  # how messages name the settings file
    file: StackFile
    # Validated once (a check validates it to plan and again to warn of placeholders, a few
    # milliseconds per repository); the models are frozen, so every reader gets the same one.
    _config: StackConfig | None = field(default=None, init=False, repr=False, compare=False)

    def load(self) -> StackConfig:
        """The validated config (`infra.stack.load_stack`); raises ConfigError."""
        if self._config is None:
            from infra.stack import load_stack

            self._config = load_stack(self.source, self.file.config, stack=self.name)
        return self._config


def open_stack(name: str, config_file: str | None = None) -> Stack:
    """The stack's settings file, read (not yet validated) from the project around the cwd."""
    project = find_project(Path.cwd())
    path = resolve_stack_file(project, name, config_file)
    source = config_file or path.name
    return Stack(name, project, source, read_stack_file(path, label=source))
