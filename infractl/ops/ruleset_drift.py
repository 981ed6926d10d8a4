"""Ruleset drift the provider cannot see: terraform-provider-github (which pulumi-github wraps) does
not report bypass actors added or removed in GitHub's UI (integrations/terraform-provider-github
#3509, #2952). This reads each governed repository's default-branch ruleset through the REST API
(infractl/ops/github_live.py, the reader `infractl adopt` uses) and turns each difference of
enforcement or bypass actors from the declared ruleset into a refresh-like change, ranked by
drift_rules.toml like any other (both are critical)."""

from __future__ import annotations

from typing import Any

from infra.config.model import StackConfig
from infra.github.settings.ruleset import RULESET_NAME, default_branch_ruleset
from infractl.ops.engine_output import Change, PropertyDiff
from infractl.ops.github_api import GitHubApi
from infractl.ops.github_live import read_ruleset
from infractl.project import PROJECT

RULESET_TYPE = "github:index/repositoryRuleset:RepositoryRuleset"
COMPONENT_TYPE = "tbcoin:github:GovernedRepository"
# Actors GitHub identifies by kind alone: their actor_id is not part of the declaration.
ID_LESS = ("OrganizationAdmin", "DeployKey")


def _actors(actors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bypass actors as the program declares them (camelCase), sorted, ids only where they count."""
    shown = []
    for actor in actors:
        kind = actor.get("actor_type") or actor.get("actorType")
        entry = {
            "actorType": kind,
            "bypassMode": actor.get("bypass_mode") or actor.get("bypassMode"),
        }
        actor_id = actor.get("actor_id", actor.get("actorId"))
        if kind not in ID_LESS and actor_id is not None:
            entry["actorId"] = actor_id
        shown.append(entry)
    return sorted(shown, key=lambda a: (str(a["actorType"]), str(a.get("actorId", ""))))


def ruleset_changes(
    api: GitHubApi, stack: str, config: StackConfig
) -> tuple[list[Change], list[str]]:
    """Each governed ruleset whose live enforcement or bypass actors differ from the declared
    ones (old: declared, new: live), and notes on what could not be compared."""
    changes: list[Change] = []
    notes: list[str] = []
    github = config.github
    if github is None:
        return changes, notes
    for repo, settings in sorted(github.settings.items()):
        declared = default_branch_ruleset(settings)
        name = f"{repo}-{RULESET_NAME}"
        urn = f"urn:pulumi:{stack}::{PROJECT}::{COMPONENT_TYPE}${RULESET_TYPE}::{name}"
        live, _ = read_ruleset(api, github.owner, repo, settings.default_branch)
        if live is None:
            changes.append(Change(urn, RULESET_TYPE, "delete"))
            continue
        diffs = []
        if live.get("enforcement") != declared["enforcement"]:
            diffs.append(
                PropertyDiff("enforcement", "update", declared["enforcement"], live["enforcement"])
            )
        if "bypass_actors" not in live:
            notes.append(
                f"{repo}: the token cannot read bypass actors (GitHub shows them to admins)"
            )
        elif _actors(live["bypass_actors"]) != _actors(declared["bypass_actors"]):
            diffs.append(
                PropertyDiff(
                    "bypassActors",
                    "update",
                    _actors(declared["bypass_actors"]),
                    _actors(live["bypass_actors"]),
                )
            )
        if diffs:
            changes.append(Change(urn, RULESET_TYPE, "update", diffs))
    return changes, notes
