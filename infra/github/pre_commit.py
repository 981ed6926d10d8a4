"""The app repository's `.pre-commit-config.yaml` (the seed's hooks, current revisions)."""

from __future__ import annotations

from typing import Any

from infra.github.yaml_text import to_yaml

HOOKS: list[dict[str, Any]] = [
    {
        "repo": "https://github.com/pre-commit/pre-commit-hooks",
        "rev": "v6.0.0",
        "hooks": [
            {"id": "trailing-whitespace"},
            {"id": "end-of-file-fixer"},
            {"id": "check-yaml"},
            {"id": "check-added-large-files"},
            {"id": "detect-private-key"},
        ],
    },
    {"repo": "https://github.com/psf/black", "rev": "25.1.0", "hooks": [{"id": "black"}]},
    {"repo": "https://github.com/pycqa/isort", "rev": "6.0.1", "hooks": [{"id": "isort"}]},
    {
        "repo": "https://github.com/pycqa/flake8",
        "rev": "7.3.0",
        "hooks": [{"id": "flake8", "args": ["--max-line-length=100"]}],
    },
]


def pre_commit_yaml() -> str:
    header = "# Managed by tbcoin-platform (Pulumi); edit the platform config, not this file.\n"
    return header + to_yaml({"repos": HOOKS})
