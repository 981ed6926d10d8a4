"""`load_stack`: the one way a stack's configuration is read, by the program and every tool.

It sits above `infra.config` (the typed model, which checks what the config says on its own) and
`infra.github` (the builders), because some checks need what the builders render: a required
status check must be reported by a job of a managed workflow.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from infra.config import ConfigError, ConfigProblem, StackConfig, validate_stack_config
from infra.config.floor import floor_problems
from infra.config.github import GitHubConfig
from infra.github.workflows import MissingPin, managed_workflows, produced_checks


def _workflow_problems(github: GitHubConfig) -> list[ConfigProblem]:
    problems = []
    for repo, s in github.settings.items():
        try:
            workflows = managed_workflows(s, github.action_pins)
        except MissingPin as exc:
            problems.append(
                ConfigProblem(
                    "github.actionPins",
                    f"no SHA pin for {exc.action!r} (used by {exc.workflow} of {repo}); add "
                    f"`{exc.action}: {{sha: <40-hex commit>, version: <tag>}}`",
                )
            )
            continue
        produced = produced_checks(workflows)
        for check in s.branch_rules.required_checks:
            if check not in produced:
                known = ", ".join(repr(c) for c in sorted(produced)) or "none"
                problems.append(
                    ConfigProblem(
                        f"github.repositories.{repo}.branchRules.requiredChecks",
                        f"required check {check!r} is reported by no job of a managed workflow, "
                        f"so every PR would wait forever ('Expected — waiting for status'); "
                        f"the managed workflows report: {known}",
                    )
                )
    return problems


def load_stack(
    source: str,
    flat: Mapping[str, Any],
    secret_keys: Collection[str] | None = None,
    *,
    stack: str,
) -> StackConfig:
    """The validated config of `stack` from its flat `<namespace>:<key>` map, at or above the
    stack's security floor; raises ConfigError naming `source` and the full key of every problem.
    `secret_keys`: see validate_stack_config."""
    config, problems = validate_stack_config(flat, secret_keys)
    if config is not None:
        problems += floor_problems(stack, config)
    if config is not None and config.github is not None:
        problems += _workflow_problems(config.github)
    if problems or config is None:
        raise ConfigError(source, problems)
    return config
