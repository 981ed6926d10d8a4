"""Every governed repository of the stack, on one explicit GitHub provider."""

from __future__ import annotations

import pulumi_github as github

from infra.config.github import GitHubConfig
from infra.github.component import GovernedRepository


def declare_governance(config: GitHubConfig) -> dict[str, GovernedRepository]:
    # The token comes from GITHUB_TOKEN in the environment of `pulumi up`, never from config.
    provider = github.Provider("github", owner=config.owner)
    return {
        name: GovernedRepository(config.owner, name, s, config.action_pins, provider)
        for name, s in sorted(config.settings.items())
    }
