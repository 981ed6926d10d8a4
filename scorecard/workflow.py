"""A GitHub Actions workflow file read the way Scorecard reads it (through actionlint's model).

Only what the checks look at: triggers, permissions, jobs, steps (`uses`, `with`, `run`,
`shell`, `if`), job defaults and `runs-on`.
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

import yaml


class WorkflowError(ValueError):
    """The file is not a workflow Scorecard could parse."""


@dataclass(frozen=True)
class Permissions:
    """actionlint's Permissions: either one value for all scopes, or a map of scopes."""

    all: str | None
    scopes: dict[str, str]


@dataclass(frozen=True)
class Step:
    uses: str | None
    inputs: dict[str, str]
    run: str | None
    shell: str | None
    condition: str | None


@dataclass(frozen=True)
class Job:
    id: str
    name: str | None
    permissions: Permissions | None
    steps: list[Step]
    calls: str | None  # `uses:` of a reusable-workflow job
    runs_on: Any
    default_shell: str | None


@dataclass(frozen=True)
class Workflow:
    path: str
    triggers: list[str]
    permissions: Permissions | None
    jobs: list[Job] = field(default_factory=list)


def is_workflow_file(path: str) -> bool:
    """fileparser.IsWorkflowFile: a .yml/.yaml file directly in .github/workflows."""
    ext = posixpath.splitext(path)[1]
    return ext in (".yml", ".yaml") and posixpath.dirname(path.lower()) == ".github/workflows"


def contains_commands(text: str, comment: str = "#") -> bool:
    """fileparser.CheckFileContainsCommands: some non-blank line that is not a comment."""
    return any(line.strip() and not line.strip().startswith(comment) for line in text.splitlines())


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _permissions(value: Any) -> Permissions:
    """A present but empty `permissions:` declares no scope at all, like `{}` (actionlint)."""
    if value is None:
        return Permissions(None, {})
    if isinstance(value, dict):
        return Permissions(None, {str(k): _text(v) for k, v in value.items()})
    return Permissions(_text(value), {})


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _step(raw: Any) -> Step:
    raw = _mapping(raw)
    inputs = _mapping(raw.get("with"))
    run = raw.get("run")
    return Step(
        uses=_text(raw["uses"]) if raw.get("uses") is not None else None,
        inputs={str(k): _text(v) for k, v in inputs.items()},
        run=_text(run) if run is not None and raw.get("uses") is None else None,
        shell=_text(raw["shell"]) if raw.get("shell") else None,
        condition=_text(raw["if"]) if raw.get("if") is not None else None,
    )


def _job(job_id: str, raw: Any) -> Job:
    raw = _mapping(raw)
    run_defaults = _mapping(_mapping(raw.get("defaults")).get("run"))
    steps = raw.get("steps") if isinstance(raw.get("steps"), list) else []
    return Job(
        id=job_id,
        name=_text(raw["name"]) if raw.get("name") is not None else None,
        permissions=_permissions(raw["permissions"]) if "permissions" in raw else None,
        steps=[_step(s) for s in steps],
        calls=_text(raw["uses"]) if raw.get("uses") is not None else None,
        runs_on=raw.get("runs-on"),
        default_shell=_text(run_defaults["shell"]) if run_defaults.get("shell") else None,
    )


def _triggers(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [_text(v) for v in value]
    if isinstance(value, dict):
        return [str(k) for k in value]
    return []


class _NoAliasLoader(yaml.SafeLoader):
    """actionlint does not resolve YAML aliases: an alias reads as an empty value."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            return yaml.ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        return super().compose_node(parent, index)


# A watch checks the same managed workflows on every save, in the pack and in the program:
# parsing is a pure function of the text, so once per text is enough. The result is shared
# between callers: they read it and never change it (its lists included).
@functools.lru_cache(maxsize=64)
def parse_workflow(path: str, text: str) -> Workflow:
    try:
        # PyYAML reads the bare key `on` as the boolean true (YAML 1.1); GitHub reads it as "on".
        document = yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        raise WorkflowError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise WorkflowError(f"{path}: a workflow is a mapping")
    on = document.get("on", document.get(True))
    jobs = _mapping(document.get("jobs"))
    return Workflow(
        path=path,
        triggers=_triggers(on),
        permissions=_permissions(document["permissions"]) if "permissions" in document else None,
        jobs=[_job(str(k), v) for k, v in jobs.items()],
    )


_WINDOWS_IF = [
    re.compile(r"runner\.os\s*==\s*['\"]windows['\"]", re.I),
    re.compile(r"\$\{\{\s*startsWith\(runner\.os,\s*['\"]windows['\"]\)", re.I),
    re.compile(r"matrix\.os\s*==\s*['\"]windows-", re.I),
]


class UnknownOS(ValueError):
    """fileparser.GetOSesForJob could not tell the runner's OS (e.g. `runs-on` from a matrix)."""


def _job_oses(job: Job) -> list[str]:
    labels = job.runs_on if isinstance(job.runs_on, list) else [job.runs_on]
    oses = [_text(label) for label in labels if label is not None]
    if not oses or any("${{" in os for os in oses):
        raise UnknownOS(f"unable to determine OS for job {job.name or job.id}")
    return oses


def shell_for_step(step: Step, job: Job) -> str:
    """fileparser.GetShellForStep: step shell, job default, Windows → pwsh, else bash."""
    if step.shell:
        return step.shell
    if job.default_shell:
        return job.default_shell
    if step.condition and any(r.search(step.condition) for r in _WINDOWS_IF):
        return "pwsh"
    if all(os.lower().startswith("windows") for os in _job_oses(job)):
        return "pwsh"
    return "bash"
