"""Governance checks that span settings: what pydantic cannot see field by field."""

from __future__ import annotations

from infra.config.errors import ConfigProblem
from infra.config.github import ECOSYSTEM_LABELS, GitHubConfig, RepositorySettings
from infra.github.workflows import MissingPin, managed_workflows, produced_checks


def _repository_problems(
    github: GitHubConfig, repo: str, s: RepositorySettings
) -> list[ConfigProblem]:
    base = f"github.repositories.{repo}"
    problems = []
    sec = s.security
    if s.visibility != "public" and sec.secret_scanning and not sec.secret_protection_licensed:
        problems.append(
            ConfigProblem(
                f"{base}.security.secretScanning",
                "a private repository needs GitHub Secret Protection for secret scanning: set "
                "security.secretProtectionLicensed: true once the licence covers it, or make "
                "the repository public",
            )
        )
    if sec.push_protection and not sec.secret_scanning:
        problems.append(
            ConfigProblem(f"{base}.security.pushProtection", "needs security.secretScanning: true")
        )
    if sec.dependabot_security_updates and not sec.vulnerability_alerts:
        problems.append(
            ConfigProblem(
                f"{base}.security.dependabotSecurityUpdates",
                "needs security.vulnerabilityAlerts: true",
            )
        )
    if s.branch_rules.linear_history and s.merge.allow_merge_commit:
        problems.append(
            ConfigProblem(
                f"{base}.merge.allowMergeCommit",
                "merge commits break branchRules.linearHistory; allow squash or rebase only",
            )
        )
    labels = {label.name for label in s.labels}
    for eco in s.dependabot.ecosystems:
        for label in ("dependencies", ECOSYSTEM_LABELS.get(eco.ecosystem, eco.ecosystem)):
            if label not in labels:
                problems.append(
                    ConfigProblem(
                        f"{base}.labels",
                        f"Dependabot labels its {eco.ecosystem} PRs {label!r}, which is not a "
                        "declared label",
                    )
                )
    try:
        workflows = managed_workflows(s, github.action_pins)
    except MissingPin as exc:
        return [
            *problems,
            ConfigProblem(
                "github.actionPins",
                f"no SHA pin for {exc.action!r} (used by {exc.workflow} of {repo}); add "
                f"`{exc.action}: {{sha: <40-hex commit>, version: <tag>}}`",
            ),
        ]
    produced = produced_checks(workflows)
    for check in s.branch_rules.required_checks:
        if check not in produced:
            known = ", ".join(repr(c) for c in sorted(produced)) or "none"
            problems.append(
                ConfigProblem(
                    f"{base}.branchRules.requiredChecks",
                    f"required check {check!r} is reported by no job of a managed workflow, so "
                    f"every PR would wait forever ('Expected — waiting for status'); "
                    f"the managed workflows report: {known}",
                )
            )
    return problems


def governance_problems(github: GitHubConfig | None) -> list[ConfigProblem]:
    if github is None:
        return []
    settings, problems = github.resolve()
    for repo, s in settings.items():
        problems += _repository_problems(github, repo, s)
    return problems
