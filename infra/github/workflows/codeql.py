"""codeql.yml: static analysis (SAST) of the Python code, on PRs, main and weekly."""

from __future__ import annotations

from infra.github.workflows.common import Workflow


def build(w: Workflow) -> None:
    branch = w.settings.default_branch
    w.document = {
        **w.top(
            "CodeQL",
            {
                "push": {"branches": [branch]},
                "pull_request": {"branches": [branch]},
                "schedule": [{"cron": "0 0 * * 1"}],
            },
        ),
        "jobs": {
            "analyze": {
                "name": "CodeQL Analyze",
                "runs-on": "ubuntu-latest",
                "timeout-minutes": 60,
                "permissions": {
                    "actions": "read",
                    "contents": "read",
                    "security-events": "write",
                },
                "steps": [
                    w.checkout(),
                    {
                        "name": "Initialize CodeQL",
                        "uses": w.uses("github/codeql-action/init"),
                        "with": {"languages": "python"},
                    },
                    {
                        "name": "Perform CodeQL analysis",
                        "uses": w.uses("github/codeql-action/analyze"),
                    },
                ],
            }
        },
    }
