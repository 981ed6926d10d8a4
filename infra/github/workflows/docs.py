"""docs.yml: build the API documentation and publish it with GitHub Pages."""

from __future__ import annotations

from infra.github.workflows.common import Workflow


def build(w: Workflow) -> None:
    s = w.settings.workflows
    w.document = {
        **w.top(
            "API Documentation",
            {"push": {"branches": [w.settings.default_branch]}, "workflow_dispatch": None},
            cancel=False,
        ),
        "jobs": {
            "build": {
                "name": "Build Docs",
                "runs-on": "ubuntu-latest",
                "timeout-minutes": 20,
                "steps": [
                    w.checkout(),
                    w.setup_python(s.python_versions[-1], cache=False),
                    w.install_step(
                        "Install dependencies",
                        True,
                        "sphinx sphinx-rtd-theme sphinxcontrib-openapi",
                    ),
                    {
                        "name": "Generate the OpenAPI document",
                        # module:attribute arrives as data in $APP_IMPORT, not in the script.
                        "env": {"APP_IMPORT": s.app_import},
                        "run": (
                            "python -c 'import importlib, json, os; "
                            'module, name = os.environ["APP_IMPORT"].split(":"); '
                            "app = getattr(importlib.import_module(module), name); "
                            "print(json.dumps(app.openapi()))' > docs/openapi.json"
                        ),
                    },
                    {"name": "Build HTML", "run": "make -C docs html"},
                    {"name": "Configure Pages", "uses": w.uses("actions/configure-pages")},
                    {
                        "name": "Upload the site",
                        "uses": w.uses("actions/upload-pages-artifact"),
                        "with": {"path": "docs/_build/html"},
                    },
                ],
            },
            "deploy": {
                "name": "Deploy Docs",
                "needs": ["build"],
                "runs-on": "ubuntu-latest",
                "timeout-minutes": 10,
                "permissions": {"pages": "write", "id-token": "write"},
                "environment": {
                    "name": "github-pages",
                    "url": "${{ steps.deployment.outputs.page_url }}",
                },
                "steps": [
                    {
                        "name": "Deploy to GitHub Pages",
                        "id": "deployment",
                        "uses": w.uses("actions/deploy-pages"),
                    }
                ],
            },
        },
    }
