"""dependency-check.yml: a weekly audit of the Python requirements, and dependency review on
every PR."""

from __future__ import annotations

from infra.github.workflows.common import Workflow
from infra.github.workflows.dependency_review import review_job


def build(w: Workflow) -> None:
    s = w.settings.workflows
    w.document = {
        **w.top(
            "Dependency Check",
            {
                "pull_request": None,
                "push": {"branches": [w.settings.default_branch]},
                "schedule": [{"cron": "0 6 * * 1"}],
                "workflow_dispatch": None,
            },
        ),
        "jobs": {
            "audit": {
                "name": "Dependency Audit",
                "runs-on": "ubuntu-latest",
                "timeout-minutes": 15,
                "steps": [
                    w.checkout(),
                    w.setup_python(s.python_versions[-1], cache=False),
                    w.install_step("Install pip-audit", False, "pip-audit"),
                    w.with_requirements(
                        {
                            "name": "Audit requirements for known vulnerabilities",
                            "run": 'pip-audit --requirement "$REQUIREMENTS" --strict',
                        }
                    ),
                    w.install_step(
                        "List outdated packages", True, then="python -m pip list --outdated\n"
                    ),
                ],
            },
            "review": review_job(w),
        },
    }
