"""What every managed workflow shares: SHA-pinned `uses:`, safe checkout, rendering, check names."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from infra.config.github import ActionPin, RepositorySettings
from infra.github.yaml_text import to_yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_USES_LINE = re.compile(r"^(\s*(?:- )?uses: )(\S+)@([0-9a-f]{40})$")
_MATRIX_REF = re.compile(r"\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}")
_PERMISSION_LINE = re.compile(r"^\s+(actions|security-events|pages|id-token): (read|write)$")
# Why a job needs a permission beyond `contents: read`, written next to it in the file.
PERMISSION_REASONS = {
    "actions": "CodeQL reads workflow run metadata",
    "security-events": "upload SARIF results to code scanning",
    "pages": "publish the site to GitHub Pages",
    "id-token": "OIDC token that proves the deployment to Pages",
}


# Rendered workflow texts by the repr of their document and versions (Workflow.text).
_TEXTS: dict[str, str] = {}
_TEXTS_MAX = 1024


class MissingPin(Exception):
    def __init__(self, action: str, workflow: str):
        self.action = action
        self.workflow = workflow
        super().__init__(f"no pin for {action!r} (used by {workflow})")


@dataclass
class Workflow:
    """One workflow file; `uses()` records the pins it needs so the file can show versions."""

    file: str
    name: str
    pins: dict[str, ActionPin]
    settings: RepositorySettings
    document: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f".github/workflows/{self.file}"

    def uses(self, action: str) -> str:
        """`owner/repo[/path]@<sha>`; the pin is looked up by `owner/repo`."""
        repo = "/".join(action.split("/")[:2])
        pin = self.pins.get(repo)
        if pin is None:
            raise MissingPin(repo, self.path)
        self.versions[pin.sha] = pin.version
        return f"{action}@{pin.sha}"

    def top(self, title: str, on: dict[str, Any], cancel: bool = True) -> dict[str, Any]:
        """Top-level keys every managed workflow has: a read-only token, one run per ref."""
        return {
            "name": title,
            "on": on,
            "permissions": {"contents": "read"},
            "concurrency": {
                "group": f"{self.file.removesuffix('.yml')}-${{{{ github.ref }}}}",
                "cancel-in-progress": cancel,
            },
        }

    def checkout(self) -> dict[str, Any]:
        # The token must not stay in .git/config where later steps (or artifacts) could read it.
        return {
            "name": "Check out",
            "uses": self.uses("actions/checkout"),
            "with": {"persist-credentials": False},
        }

    def setup_python(self, version: str, cache: bool = True) -> dict[str, Any]:
        step: dict[str, Any] = {
            "name": "Set up Python",
            "uses": self.uses("actions/setup-python"),
            "with": {"python-version": version},
        }
        if cache:
            step["with"]["cache"] = "pip"
        return step

    def with_requirements(self, step: dict[str, Any]) -> dict[str, Any]:
        """`step` with the requirements file in `$REQUIREMENTS`: config reaches the shell as
        data in an environment variable, never pasted into the script."""
        return {**step, "env": {"REQUIREMENTS": self.settings.workflows.requirements_file}}

    def install_step(
        self, name: str, requirements: bool, tools: str = "", then: str = ""
    ) -> dict[str, Any]:
        """Install Python packages: the declared lock file, hash-checked (pinned for Scorecard),
        or else the requirements file and tools by name (unpinned); `then` runs after."""
        lock = self.settings.workflows.lock_file
        if lock is not None:
            run = 'python -m pip install --require-hashes -r "$LOCK_FILE"\n'
            return {"name": name, "run": run + then, "env": {"LOCK_FILE": lock}}
        lines = ['python -m pip install -r "$REQUIREMENTS"'] if requirements else []
        lines += [f"python -m pip install {tools}"] if tools else []
        step = {"name": name, "run": "".join(line + "\n" for line in lines) + then}
        return self.with_requirements(step) if requirements else step

    def text(self) -> str:
        # Every repository of an estate renders the same workflows: the text of a document is
        # made (and read back) once per process. The key tells apart all the text depends on.
        key = repr((self.document, self.versions))
        text = _TEXTS.get(key)
        if text is None:
            if len(_TEXTS) >= _TEXTS_MAX:
                _TEXTS.clear()
            text = _TEXTS[key] = self._render()
        return text

    def _render(self) -> str:
        lines = []
        for line in to_yaml(self.document).splitlines():
            match = _USES_LINE.match(line)
            if match and match.group(3) in self.versions:
                line = f"{line} # {self.versions[match.group(3)]}"
            permission = _PERMISSION_LINE.match(line)
            if permission:
                line = f"{line} # {PERMISSION_REASONS[permission.group(1)]}"
            lines.append(line)
        header = (
            "# Managed by tbcoin-platform (Pulumi). Local edits are overwritten on the next "
            "`pulumi up`;\n# change the platform repository's config instead.\n"
        )
        text = header + "\n".join(lines) + "\n"
        # The comments are the only text added after dumping: the file must still read back as
        # exactly the document (nothing in a version can add a key, a step or a line).
        if yaml.load(text, Loader=_Loader) != self.document:
            raise ValueError(f"{self.path}: rendered text does not read back as its document")
        return text


def _fill_matrix(template: str, values: dict[str, str]) -> str:
    return _MATRIX_REF.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def check_names(document: dict[str, Any]) -> set[str]:
    """The status check names GitHub reports for a workflow's jobs.

    A job reports its `name` (or its id). A matrix job reports one check per combination:
    `${{ matrix.x }}` in its name is filled in, otherwise GitHub appends the values,
    `<name> (<v1>, <v2>)`. It never reports the bare name, so requiring the bare name of a matrix
    job is the classic "Expected — waiting for status" trap.
    """
    names: set[str] = set()
    for job_id, job in document.get("jobs", {}).items():
        name = str(job.get("name", job_id))
        for values in _combinations((job.get("strategy") or {}).get("matrix") or {}):
            filled = _fill_matrix(name, values)
            names.add(
                filled if filled != name or not values else f"{name} ({', '.join(values.values())})"
            )
    return names


def _combinations(matrix: dict[str, Any]) -> list[dict[str, str]]:
    """The jobs of a matrix, each as its values ([{}] without a matrix). Only the two shapes the
    managed workflows use: lists of values (every combination), or `include` entries alone
    (each entry one job)."""
    axes = {
        key: values
        for key, values in matrix.items()
        if key not in ("include", "exclude") and isinstance(values, list)
    }
    if axes:
        return [
            dict(zip(axes, map(str, combo), strict=True))
            for combo in itertools.product(*axes.values())
        ]
    entries = [e for e in matrix.get("include") or [] if isinstance(e, dict)]
    return [{k: str(v) for k, v in e.items()} for e in entries] or [{}]


def job_uses(job: dict[str, Any]) -> set[str]:
    """Every `owner/repo[/path]@<sha>` a job's steps use."""
    return {str(step["uses"]) for step in job.get("steps", []) if "uses" in step}


def workflow_uses(workflows: list[Workflow]) -> set[str]:
    return {
        ref
        for w in workflows
        for job in w.document.get("jobs", {}).values()
        for ref in job_uses(job)
    }
