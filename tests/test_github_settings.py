"""Setting areas are small pure builders, and GovernedRepository declares exactly what they ask."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from infra.config.github import GitHubConfig
from infra.github.settings import AREAS, RepositoryContext, declarations
from tests.conftest import load_stack, resources


def context(stack: str = "prod", repo: str = "tbcoin-engine-ml") -> RepositoryContext:
    config = GitHubConfig.model_validate(load_stack(stack)["config"]["tbcoin-platform:github"])
    assert config.problems() == []
    return RepositoryContext(
        config.owner, repo, config.settings[repo], config.action_pins, lambda t: 7
    )


def test_each_area_is_a_pure_function_of_the_context() -> None:
    ctx = context()
    settings = ctx.settings.model_copy(deep=True)
    looked_up: list[str] = []
    spy = RepositoryContext(
        ctx.owner, ctx.name, ctx.settings, ctx.pins, lambda t: looked_up.append(t) or 7
    )
    for area in AREAS:
        # The same context gives the same declarations, and reading it changes nothing in it.
        assert area(spy) == area(context()), area.__name__
    assert ctx.settings == settings
    # Team ids come only through the context's lookup, for the teams the settings name.
    assert set(looked_up) == {t.team for t in ctx.settings.teams}
    assert {a.__name__ for a in AREAS} >= {
        "repository", "labels", "teams", "environments", "actions", "pages", "files", "ruleset",
    }  # fmt: skip


def test_the_component_declares_exactly_what_the_areas_ask(
    synthesized: Callable[[str], Path],
) -> None:
    for stack, repo in (("prod", "tbcoin-engine-ml"), ("staging", "tbcoin-platform-sandbox")):
        declared = {d.name for d in declarations(context(stack, repo))}
        captured = {
            r["name"]
            for r in resources(synthesized(stack))
            if r["type"].startswith("github:index/")
        }
        assert captured == declared, stack


def test_declarations_depend_on_the_repository_and_what_they_name(
    synthesized: Callable[[str], Path],
) -> None:
    by_name = {
        r["name"]: r
        for r in resources(synthesized("prod"))
        if r["type"].startswith("github:index/")
    }
    repo_urn = by_name["tbcoin-engine-ml"]["urn"]
    for d in declarations(context()):
        if d.name == "tbcoin-engine-ml":
            continue
        deps = set(by_name[d.name]["options"].get("dependsOn", []))
        assert repo_urn in deps, d.name
        assert {by_name[n]["urn"] for n in d.depends_on} <= deps, d.name
