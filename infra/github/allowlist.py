"""The transitive action allow-list: facts about every action a managed workflow may run (see
allowed_actions.yaml), and what config must say about them."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from infra.config.errors import ConfigProblem
from infra.config.github import ActionPin

FACTS_FILE = Path(__file__).with_name("allowed_actions.yaml")
SHA_REF = re.compile(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+(/[A-Za-z0-9._/-]+)?@[0-9a-f]{40}")
# GitHub is retiring the node20 runtime; actions on it need a reason in config to stay.
RETIRING = "node20"


@dataclass(frozen=True)
class ActionFacts:
    tag: str
    using: str
    nested: tuple[str, ...]
    verified: datetime.date


def parse_facts(document: Mapping[str, Any]) -> dict[str, ActionFacts]:
    return {
        ref: ActionFacts(
            str(entry["tag"]), str(entry["using"]), tuple(entry["nested"]), entry["verified"]
        )
        for ref, entry in document.items()
    }


@cache
def allowed_actions() -> dict[str, ActionFacts]:
    return parse_facts(yaml.safe_load(FACTS_FILE.read_text()))


def repo_of(ref: str) -> str:
    """`owner/repo` of `owner/repo[/path]@ref` (pins and allow-list patterns name repositories)."""
    return "/".join(ref.split("@")[0].split("/")[:2])


def closure(ref: str, facts: Mapping[str, ActionFacts]) -> list[str]:
    """`ref` and every action it runs inside it, transitively (refs without facts included)."""
    seen: list[str] = []
    todo = [ref]
    while todo:
        current = todo.pop(0)
        if current in seen:
            continue
        seen.append(current)
        known = facts.get(current)
        todo += list(known.nested) if known else []
    return seen


def allowlist_problems(
    used: Iterable[str], pins: Mapping[str, ActionPin], facts: Mapping[str, ActionFacts]
) -> list[ConfigProblem]:
    """Problems with the SHA-pinned refs the managed workflows use (`owner/repo[/path]@sha`)."""
    problems: list[ConfigProblem] = []
    for ref in sorted(set(used)):
        repo = repo_of(ref)
        key = f"github.actionPins.{repo}"
        if ref not in facts:
            problems.append(
                ConfigProblem(
                    key,
                    f"{ref} is not in the action allow-list (infra/github/allowed_actions.yaml): "
                    "vendor its action.yml and add its facts and those of every action it nests",
                )
            )
            continue
        if facts[ref].tag != pins[repo].version:
            problems.append(
                ConfigProblem(
                    f"{key}.version",
                    f"{pins[repo].version!r} but the allow-list records {ref} as "
                    f"{facts[ref].tag!r}",
                )
            )
        chain = closure(ref, facts)
        for nested in chain[1:]:
            if not SHA_REF.fullmatch(nested):
                problems.append(
                    ConfigProblem(
                        key,
                        f"{ref} runs {nested}, which is not pinned to a commit SHA, so GitHub "
                        "refuses it when SHA pinning is required: pin a release whose action.yml "
                        "pins its nested actions by SHA",
                    )
                )
            elif nested not in facts:
                problems.append(
                    ConfigProblem(
                        key,
                        f"{ref} runs {nested}, which is missing from the action allow-list "
                        "(infra/github/allowed_actions.yaml), so GitHub refuses it: add its facts",
                    )
                )
        retiring = [r for r in chain if r in facts and facts[r].using == RETIRING]
        if retiring and pins[repo].keep_node20 is None:
            problems.append(
                ConfigProblem(
                    f"{key}.keepNode20",
                    f"{', '.join(retiring)} runs on {RETIRING}, which GitHub is retiring: pin a "
                    "release on node24, or say here why this one stays",
                )
            )
    return problems
