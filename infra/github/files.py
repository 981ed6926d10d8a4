"""Every file the platform manages in a repository, as {path: content}."""

from __future__ import annotations

from infra.config.github import ActionPin, RepositorySettings, default_codeowners
from infra.github.codeowners import codeowners_text
from infra.github.dependabot import dependabot_yaml
from infra.github.license import license_text
from infra.github.pre_commit import pre_commit_yaml
from infra.github.security_policy import security_md
from infra.github.workflows import managed_workflows


def repository_files(
    owner: str, repo: str, settings: RepositorySettings, pins: dict[str, ActionPin]
) -> dict[str, str]:
    files = {
        ".github/dependabot.yml": dependabot_yaml(settings.dependabot),
        ".github/CODEOWNERS": codeowners_text(settings.codeowners or default_codeowners(owner)),
        ".pre-commit-config.yaml": pre_commit_yaml(),
    }
    if settings.license is not None:
        files["LICENSE"] = license_text(settings.license)
    if settings.security_policy is not None:
        files["SECURITY.md"] = security_md(owner, repo, settings.security_policy)
    for workflow in managed_workflows(settings, pins):
        files[workflow.path] = workflow.text()
    return dict(sorted(files.items()))
