"""dependency-review.yml: GitHub's dependency review on every PR, for a repository of any
language (dependency-check.yml adds the Python audit to the same job)."""

from __future__ import annotations

from typing import Any

from infra.config.checks import DEPENDENCY_REVIEW_CHECK
from infra.github.workflows.common import Workflow


def review_job(w: Workflow) -> dict[str, Any]:
    """The job that reports the `Dependency Review` check: the manifests a PR changes, against
    GitHub's advisory database."""
    return {
        "name": DEPENDENCY_REVIEW_CHECK,
        "if": "${{ github.event_name == 'pull_request' }}",
        "runs-on": "ubuntu-latest",
        "timeout-minutes": 10,
        "steps": [
            w.checkout(),
            {
                "name": "Review dependency changes",
                "uses": w.uses("actions/dependency-review-action"),
                "with": {"fail-on-severity": "moderate"},
            },
        ],
    }


def build(w: Workflow) -> None:
    w.document = {
        **w.top("Dependency Review", {"pull_request": None}),
        "jobs": {"review": review_job(w)},
    }
