"""CODEOWNERS: who reviews what (and, since dependabot.yml lost `reviewers`, Dependabot PRs too)."""

from __future__ import annotations

from infra.config.github import CodeOwner

MANAGED = "# Managed by tbcoin-platform (Pulumi); edit the platform config, not this file."


def codeowners_text(rules: list[CodeOwner], header: str = MANAGED) -> str:
    width = max(len(r.pattern) for r in rules)
    lines = [header, "# Later lines win: keep the catch-all first."]
    lines += [f"{r.pattern:<{width}}  {' '.join(r.owners)}" for r in rules]
    return "\n".join(lines) + "\n"
