"""One governed repository: every setting area's declarations as Pulumi resources."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import pulumi
import pulumi_github as github

from infra.config.github import ActionPin, RepositorySettings
from infra.github.settings import Declaration, RepositoryContext


def _pr_closed(owner: str, repo: str, invoke: pulumi.InvokeOptions, branch: str) -> bool:
    """Whether a pull request from `branch` was closed (merged or not)."""
    try:
        found = github.get_repository_pull_requests(
            base_repository=repo, head_ref=f"{owner}:{branch}", state="closed", opts=invoke
        )
    except Exception as exc:
        # A repository this run is about to create has no pull requests yet.
        if "404" in str(exc):
            return False
        raise
    return bool(found.results)


def repository_context(
    owner: str,
    name: str,
    settings: RepositorySettings,
    pins: dict[str, ActionPin],
    team_id: Callable[[str], pulumi.Output[int]],
    invoke: pulumi.InvokeOptions,
    properties: Mapping[str, tuple[str, list[str]]],
) -> RepositoryContext:
    """What the setting areas read about one repository, GitHub lookups included."""
    # Only an adopted repository exists before the first `up`. Its labels as adopt recorded
    # them, or else as GitHub lists them now, so same-named ones are imported, not created.
    recorded = settings.existing.labels
    existing = (
        frozenset(recorded)
        if recorded is not None
        else frozenset(label.name for label in github.get_issue_labels(name, invoke).labels or [])
        if settings.existing.repository
        else frozenset()
    )
    return RepositoryContext(
        owner,
        name,
        settings,
        pins,
        team_id,
        existing,
        partial(_pr_closed, owner, name, invoke),
        properties,
    )


def register(
    declarations: list[Declaration],
    parent: pulumi.Resource,
    provider: github.Provider,
    known: Mapping[str, pulumi.CustomResource],
    root: str | None = None,
) -> dict[str, pulumi.CustomResource]:
    """Each declaration as a resource of `parent`, after `root` (declared first) and those it
    names: earlier ones, or `known` (the organisation's, for a repository)."""
    declared: dict[str, pulumi.CustomResource] = dict(known)
    for d in declarations:
        head = [declared[root]] if root is not None and root in declared else []
        after = head + [declared[n] for n in d.depends_on]
        declared[d.name] = d.kind(
            d.name,
            **d.args,
            opts=pulumi.ResourceOptions(
                parent=parent,
                provider=provider,
                depends_on=after,
                protect=d.protect or None,
                retain_on_delete=d.retain_on_delete or None,
                import_=d.import_id,
                ignore_changes=list(d.ignore_changes) or None,
            ),
        )
    return {name: r for name, r in declared.items() if name not in known}


class GovernedRepository(pulumi.ComponentResource):
    def __init__(
        self,
        owner: str,
        name: str,
        declarations: list[Declaration],
        provider: github.Provider,
        organization: Mapping[str, pulumi.CustomResource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("tbcoin:github:GovernedRepository", name, None, opts)
        # The repository is declared first; everything else waits for it.
        register(declarations, self, provider, organization, root=name)
        self.register_outputs({"fullName": f"{owner}/{name}"})


class GovernedOrganization(pulumi.ComponentResource):
    """What the stack declares for the whole organisation: its custom properties' schema and
    the organisation-wide ruleset."""

    def __init__(
        self,
        owner: str,
        declarations: list[Declaration],
        provider: github.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("tbcoin:github:GovernedOrganization", owner, None, opts)
        self.resources = register(declarations, self, provider, {})
        self.register_outputs({"organization": owner})
