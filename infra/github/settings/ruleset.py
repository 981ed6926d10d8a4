"""Ruleset area: the default-branch ruleset (GitHub's recommended mechanism over classic branch
protection: several can apply at once, they are visible to every reader, and can be switched to
evaluate)."""

from __future__ import annotations

from typing import Any

import pulumi_github as github

from infra.config.github import RepositorySettings
from infra.github.import_ids import import_id
from infra.github.settings.declaration import Declaration, RepositoryContext
from infra.github.settings.files import file_resource_name

DEFAULT_BRANCH = "~DEFAULT_BRANCH"
RULESET_NAME = "default-branch"  # on GitHub, and the resource's name after the repository's
# The GitHub Actions app. Binding each required check to it means no other app can satisfy the
# check by posting a status of the same name, and GitHub has nothing to fill in (without it the
# server records the reporting app and the next refresh shows a diff). Every required check is
# reported by a managed workflow (infra/github/checks.py), so the app is always GitHub Actions.
# The id is what GitHub's branch-protection API reports as `app_id` for Actions checks (e.g.
# apache/infrastructure-asfyaml#64); not verified against GitHub here.
GITHUB_ACTIONS_APP_ID = 15368


def allowed_merge_methods(settings: RepositorySettings) -> list[str]:
    m = settings.merge
    methods = [("merge", m.allow_merge_commit), ("squash", m.allow_squash_merge)]
    methods.append(("rebase", m.allow_rebase_merge))
    return [name for name, allowed in methods if allowed]


def default_branch_ruleset(settings: RepositorySettings) -> dict[str, Any]:
    """Inputs of `github.RepositoryRuleset` (without `repository`)."""
    r = settings.branch_rules
    rules: dict[str, Any] = {
        "deletion": r.block_deletion,
        "non_fast_forward": r.block_force_pushes,
        "required_linear_history": r.linear_history,
        "pull_request": {
            "required_approving_review_count": r.required_approvals,
            "dismiss_stale_reviews_on_push": r.dismiss_stale_reviews,
            "require_code_owner_review": r.require_code_owner_review,
            "require_last_push_approval": r.require_last_push_approval,
            "required_review_thread_resolution": r.require_conversation_resolution,
            "allowed_merge_methods": allowed_merge_methods(settings),
        },
    }
    if r.required_checks:
        rules["required_status_checks"] = {
            "required_checks": [
                {"context": check, "integration_id": GITHUB_ACTIONS_APP_ID}
                for check in r.required_checks
            ],
            "strict_required_status_checks_policy": r.strict_checks,
        }
    return {
        "name": RULESET_NAME,
        "target": "branch",
        "enforcement": r.enforcement,
        "conditions": {"ref_name": {"includes": [DEFAULT_BRANCH], "excludes": []}},
        "bypass_actors": [
            {
                "actor_type": a.actor_type,
                "bypass_mode": a.bypass_mode,
                **({"actor_id": a.actor_id} if a.actor_id is not None else {}),
            }
            for a in r.bypass_actors
        ],
        "rules": rules,
    }


def ruleset(ctx: RepositoryContext) -> list[Declaration]:
    # Files committed straight to the default branch must land before the ruleset forbids it.
    direct = ctx.settings.managed_files.via == "defaultBranch"
    live = ctx.settings.existing.ruleset_id
    return [
        Declaration(
            github.RepositoryRuleset,
            f"{ctx.name}-{RULESET_NAME}",
            {"repository": ctx.name, **default_branch_ruleset(ctx.settings)},
            depends_on=tuple(file_resource_name(ctx, p) for p in ctx.files) if direct else (),
            import_id=import_id(github.RepositoryRuleset, repository=ctx.name, ruleset_id=live)
            if live is not None
            else None,
        )
    ]
