"""tests.yml: the test suite with coverage on every configured Python version."""

from __future__ import annotations

from infra.github.workflows.common import Workflow

# The matrix reports "Tests (3.11)", "Tests (3.12)"…; branch rules require the one "Tests" check,
# which the gate job below reports once all versions passed.
CHECK = "Tests"


def build(w: Workflow) -> None:
    s = w.settings.workflows
    w.document = {
        **w.top("Tests", {"pull_request": None, "push": {"branches": [w.settings.default_branch]}}),
        "jobs": {
            "test": {
                "name": "Tests (${{ matrix.python-version }})",
                "runs-on": "ubuntu-latest",
                "timeout-minutes": 30,
                "strategy": {"fail-fast": False, "matrix": {"python-version": s.python_versions}},
                "steps": [
                    w.checkout(),
                    w.setup_python("${{ matrix.python-version }}"),
                    w.install_step(
                        "Install dependencies", True, "pytest pytest-cov pytest-asyncio"
                    ),
                    {
                        "name": "Run tests with coverage",
                        "run": "pytest --cov=. --cov-report=xml --cov-report=term",
                    },
                    {
                        "name": "Upload coverage",
                        "uses": w.uses("codecov/codecov-action"),
                        "with": {
                            "files": "./coverage.xml",
                            "flags": "python-${{ matrix.python-version }}",
                            "fail_ci_if_error": False,
                        },
                        "env": {"CODECOV_TOKEN": "${{ secrets.CODECOV_TOKEN }}"},
                    },
                ],
            },
            "gate": {
                "name": CHECK,
                "if": "${{ always() }}",
                "needs": ["test"],
                "runs-on": "ubuntu-latest",
                "timeout-minutes": 5,
                "steps": [
                    {
                        "name": "Every Python version passed",
                        "env": {"RESULT": "${{ needs.test.result }}"},
                        "run": 'test "$RESULT" = "success"',
                    }
                ],
            },
        },
    }
