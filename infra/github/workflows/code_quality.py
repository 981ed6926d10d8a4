"""code-quality.yml: formatting, import order, style and types, as the seed asks."""

from __future__ import annotations

from infra.github.workflows.common import Workflow

CHECK = "Code Quality"


def build(w: Workflow) -> None:
    python = w.settings.workflows.python_versions[-1]
    w.document = {
        **w.top(
            "Code Quality",
            {"pull_request": None, "push": {"branches": [w.settings.default_branch]}},
        ),
        "jobs": {
            "lint": {
                "name": CHECK,
                "runs-on": "ubuntu-latest",
                "timeout-minutes": 15,
                "steps": [
                    w.checkout(),
                    w.setup_python(python),
                    w.install_step("Install linting tools", False, "black isort flake8 mypy"),
                    {"name": "Black (formatting)", "run": "black --check ."},
                    {"name": "isort (import order)", "run": "isort --check-only ."},
                    {
                        "name": "flake8 (style)",
                        "run": "flake8 . --max-line-length=100 --exclude=node_modules,venv,.venv",
                    },
                    {"name": "mypy (types)", "run": "mypy . --ignore-missing-imports"},
                ],
            }
        },
    }
