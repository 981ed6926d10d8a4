"""One governed repository: every setting area's declarations as Pulumi resources."""

from __future__ import annotations

from collections.abc import Callable
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
        owner, name, settings, pins, team_id, existing, partial(_pr_closed, owner, name, invoke)
    )


class GovernedRepository(pulumi.ComponentResource):
    def __init__(
        self,
        owner: str,
        name: str,
        declarations: list[Declaration],
        provider: github.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("tbcoin:github:GovernedRepository", name, None, opts)
        declared: dict[str, pulumi.CustomResource] = {}
        for d in declarations:
            # The repository is declared first; everything else waits for it.
            repo = [declared[name]] if name in declared else []
            after = repo + [declared[n] for n in d.depends_on]
            declared[d.name] = d.kind(
                d.name,
                **d.args,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=provider,
                    depends_on=after,
                    protect=d.protect or None,
                    retain_on_delete=d.retain_on_delete or None,
                    import_=d.import_id,
                    ignore_changes=list(d.ignore_changes) or None,
                ),
            )
        self.register_outputs({"fullName": f"{owner}/{name}"})
