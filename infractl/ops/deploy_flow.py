"""What merging does to each stack, read from the Deploy workflow itself (so the PR comment
cannot drift from it): which job runs `pulumi up --stack <stack>`, after which jobs, in which
GitHub environment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from infra.config.documents import DocumentError, load_yaml
from infractl.markdown import code, text

DEPLOY = Path(".github") / "workflows" / "deploy.yml"
_UP = re.compile(r"pulumi up\b[^\n]*?--stack[ =]\"?([A-Za-z0-9_.-]+)")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def on_merge(project: Path) -> dict[str, str]:
    """Stack -> one Markdown sentence of what a merge to the default branch does to it ({} when
    the project has no readable Deploy workflow)."""
    try:
        workflow = _mapping(load_yaml(project / DEPLOY))
    except DocumentError:
        return {}
    jobs = _mapping(workflow.get("jobs"))
    titles = {job: str(_mapping(spec).get("name") or job) for job, spec in jobs.items()}
    found: dict[str, str] = {}
    for job, spec in jobs.items():
        spec = _mapping(spec)
        runs = "\n".join(str(_mapping(s).get("run", "")) for s in spec.get("steps") or [])
        needs = spec.get("needs") or []
        needs = [needs] if isinstance(needs, str) else [str(n) for n in needs]
        environment = spec.get("environment")
        for stack in _UP.findall(runs):
            sentence = f"the Deploy workflow's job “{text(titles[job])}” runs `pulumi up`"
            if needs:
                after = " and ".join(f"“{text(titles.get(n, n))}”" for n in needs)
                sentence += f" once {after} succeeded"
            if isinstance(environment, str) and environment:
                sentence += f", in the GitHub environment {code(environment, table=False)}"
            found.setdefault(stack, sentence)
    return found
