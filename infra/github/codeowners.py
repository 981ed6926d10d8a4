"""CODEOWNERS: who reviews what (and, since dependabot.yml lost `reviewers`, Dependabot PRs too)."""

from __future__ import annotations

from infra.config.github import CodeOwner


def codeowners_text(rules: list[CodeOwner]) -> str:
    width = max(len(r.pattern) for r in rules)
    lines = [
        "# Managed by tbcoin-platform (Pulumi); edit the platform config, not this file.",
        "# Later lines win: keep the catch-all first.",
    ]
    lines += [f"{r.pattern:<{width}}  {' '.join(r.owners)}" for r in rules]
    return "\n".join(lines) + "\n"
