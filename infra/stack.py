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
from infra.config.github import GitHubConfig, RepositorySettings
from infra.config.plans import ACTION_FEATURES, missing_licence
from infra.github.allowlist import allowed_actions, allowlist_problems
from infra.github.workflows import MissingPin, Workflow, managed_workflows
from infra.github.workflows.common import check_names, job_uses, workflow_uses


def _workflow_problems(github: GitHubConfig) -> list[ConfigProblem]:
    problems = []
    used: set[str] = set()
    for repo, s in github.settings.items():
        try:
            workflows = managed_workflows(s, github.action_pins)
            used |= workflow_uses(workflows)
        except MissingPin as exc:
            problems.append(
                ConfigProblem(
                    "github.actionPins",
                    f"no SHA pin for {exc.action!r} (used by {exc.workflow} of {repo}); add "
                    f"`{exc.action}: {{sha: <40-hex commit>, version: <tag>}}`",
                )
            )
            continue
        problems += _plan_problems(github, repo, s, workflows)
        problems += _check_problems(github, repo, s, workflows)
    return problems + allowlist_problems(used, github.action_pins, allowed_actions())


def _check_problems(
    github: GitHubConfig, repo: str, s: RepositorySettings, workflows: list[Workflow]
) -> list[ConfigProblem]:
    """A managed required check must be reported by a job of a managed workflow (else every PR
    waits forever), an external one by none (else it is managed), and no check by two."""
    problems = []
    checks_key = github.written_at(repo, "branchRules", "requiredChecks")
    reporters: dict[str, list[str]] = {}
    for w in workflows:
        for name in check_names(w.document):
            reporters.setdefault(name, []).append(w.path)
    for name, paths in sorted(reporters.items()):
        if len(paths) > 1:
            problems.append(
                ConfigProblem(
                    github.written_at(repo, "workflows", "enabled"),
                    f"check {name!r} is reported by {' and '.join(paths)}: a required check "
                    "must mean one job; enable one of them",
                )
            )
    for check in s.branch_rules.required_checks:
        if check.external and check.context in reporters:
            problems.append(
                ConfigProblem(
                    checks_key,
                    f"external check {check.context!r} is reported by the managed "
                    f"{reporters[check.context][0]}: drop `external: true`",
                )
            )
        elif not check.external and check.context not in reporters:
            known = ", ".join(repr(c) for c in sorted(reporters)) or "none"
            problems.append(
                ConfigProblem(
                    checks_key,
                    f"required check {check.context!r} is reported by no job of a managed "
                    "workflow, so every PR would wait forever ('Expected — waiting for status'); "
                    f"the managed workflows report: {known}. If the repository's own CI reports "
                    f"it, declare it {{context: {check.context}, external: true}}",
                )
            )
    return problems


def _plan_problems(
    github: GitHubConfig, repo: str, s: RepositorySettings, workflows: list[Workflow]
) -> list[ConfigProblem]:
    """Workflows, and required checks, that use a feature this repository's plan lacks."""
    problems = []
    required = {c.context for c in s.branch_rules.required_checks if not c.external}
    for workflow in workflows:
        for job_id, job in workflow.document.get("jobs", {}).items():
            features = {ACTION_FEATURES.get(ref.split("@")[0]) for ref in job_uses(job)}
            for feature in sorted((f for f in features if f), key=lambda f: f.name):
                why = missing_licence(s, feature)
                if not why:
                    continue
                problems.append(
                    ConfigProblem(
                        github.written_at(repo, "workflows", "enabled"),
                        f"{workflow.name!r} uses {feature.name} (job {job_id!r}): {why}, or drop "
                        f"{workflow.name!r} from workflows.enabled",
                    )
                )
                for check in sorted(check_names({"jobs": {job_id: job}}) & required):
                    problems.append(
                        ConfigProblem(
                            github.written_at(repo, "branchRules", "requiredChecks"),
                            f"required check {check!r} can never pass, which blocks every merge: "
                            f"{why}, or remove {check!r} from branchRules.requiredChecks",
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


def deploy_problems(config: StackConfig) -> list[ConfigProblem]:
    """Values an offline plan accepts (they are well-formed) but the real engine refuses: each
    names a value an operator must resolve outside this repository before the first deploy."""
    return config.rollouts.deploy_problems() if config.rollouts is not None else []
