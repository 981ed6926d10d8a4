"""Every governed repository of the stack, on one explicit GitHub provider."""

from __future__ import annotations

from functools import cache

import pulumi
import pulumi_github as github

from infra.config.github import GitHubConfig
from infra.github.component import GovernedRepository, repository_context
from infra.github.settings import declarations


def declare_governance(config: GitHubConfig) -> dict[str, GovernedRepository]:
    # The token comes from GITHUB_TOKEN in the environment of `pulumi up`, never from config.
    provider = github.Provider("github", owner=config.owner)
    invoke = pulumi.InvokeOptions(provider=provider)

    # One lookup per team slug for the whole stack, not one per repository that names it.
    @cache
    def team_id(slug: str) -> pulumi.Output[int]:
        return github.get_team_output(slug=slug, opts=invoke).id.apply(int)

    # Every repository's declarations first (plain data), then the resources. Declaring makes
    # the synchronous lookups (labels, closed pull requests); such an invoke pumps the event loop
    # and then refills its ready list to the length it found, so one made after k registrations
    # costs O(k): interleaved with the resources, the program was quadratic in repositories.
    planned = {
        name: declarations(
            repository_context(config.owner, name, s, config.action_pins, team_id, invoke)
        )
        for name, s in sorted(config.settings.items())
    }
    return {
        name: GovernedRepository(config.owner, name, each, provider)
        for name, each in planned.items()
    }
