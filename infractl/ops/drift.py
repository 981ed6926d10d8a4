"""Drift, kept apart from pending code: two engine runs, ranked findings, one issue per stack.

- *Drift*: `pulumi refresh --preview-only --expect-no-changes` (live resources vs state; writes
  no state). Each changed property is ranked by severity.py; controller-owned ones are expected.
- *Pending changes*: `pulumi preview --expect-no-changes` (code vs state): merged, not applied.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infractl.errors import InfractlError, UsageError
from infractl.markdown import code, text
from infractl.ops.engine_output import MISSING, EngineOutputError, EngineReport, read_engine_output
from infractl.ops.preview_report import COMMENT_LIMIT, stack_section
from infractl.ops.severity import EXPECTED, SEVERITIES, Classifier, Finding, Program
from infractl.project import STACK_NAME, STACK_NAME_RULE
from infractl.resources_file import load_resources_json
from infractl.waivers import Standing, markdown_table

# Exit codes of `infractl drift` (docs/reference/exit-codes.md, docs/runbooks/drift.md).
EXIT_IN_SYNC, EXIT_DRIFT, EXIT_ERROR, EXIT_PENDING, EXIT_DRIFT_AND_PENDING = 0, 1, 2, 3, 4
# ... and of `infractl drift --remediation-check`.
REMEDIATION_ALLOWED, REMEDIATION_REFUSED = 0, 1
ICONS = {"critical": "🔴", "high": "🟠", "low": "🟡"}
HISTORY_RUNS = 10
_STATE = re.compile(r"<!-- tbcoin-platform:drift-state:([A-Za-z0-9_=-]*) -->")


class DriftError(InfractlError):
    """The engine could not be run or its output could not be used."""


def marker(stack: str) -> str:
    return f"<!-- tbcoin-platform:drift:{stack} -->"


def check_stack_name(stack: str) -> str:
    if not STACK_NAME.fullmatch(stack):
        raise DriftError(f"--stack: {stack!r} is not a stack name ({STACK_NAME_RULE})")
    return stack


def _run(project: Path, stack: str, command: list[str], what: str) -> EngineReport:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise DriftError("the pulumi CLI is not on PATH; pass --input with a recorded output")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        proc = subprocess.run(
            [pulumi, *command, "--stack", stack, "--expect-no-changes", "--event-log", str(log),
             "--non-interactive"],
            cwd=project, capture_output=True, text=True, check=False,
            # The CLI offers `--event-log` only with this set ("unknown flag" otherwise).
            env={**os.environ, "PULUMI_DEBUG_COMMANDS": "true"},
        )  # fmt: skip
        # --expect-no-changes exits non-zero on changes as well as on errors; only a run that got
        # as far as its summary event answered the question.
        try:
            report = read_engine_output(log)
        except EngineOutputError:
            report = None
        if report is None:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]
            raise DriftError(f"{what} failed (exit {proc.returncode}): {last}")
        return report


def run_refresh_preview(project: Path, stack: str) -> EngineReport:
    """Drift: live resources vs state, nothing written."""
    return _run(project, stack, ["refresh", "--preview-only"], "pulumi refresh --preview-only")


def run_preview(project: Path, stack: str) -> EngineReport:
    """Pending changes: code vs state."""
    return _run(project, stack, ["preview"], "pulumi preview")


def read_program(path: Path) -> Program:
    """The synth's resources.json (`infractl synth --out`), for ignoreChanges and autoscaling."""
    try:
        return Program.from_resources(load_resources_json(path))
    except UsageError as exc:
        raise DriftError(f"--resources {exc}") from None


@dataclass
class DriftReport:
    stack: str
    findings: list[Finding]  # drift, most severe first
    expected: list[Finding]
    drift: EngineReport
    pending: EngineReport | None
    notes: list[str] = field(default_factory=list)
    # The stack's policy waivers (policies/waivers/<stack>.json) and where they stand today.
    waivers: list[Standing] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {s: n for s in SEVERITIES if (n := sum(f.severity == s for f in self.findings))}

    @property
    def highest(self) -> str:
        return self.findings[0].severity if self.findings else ""

    @property
    def pending_changes(self) -> int:
        return len(self.pending.changes) if self.pending else 0

    def exit_code(self) -> int:
        if self.findings:
            return EXIT_DRIFT_AND_PENDING if self.pending_changes else EXIT_DRIFT
        return EXIT_PENDING if self.pending_changes else EXIT_IN_SYNC

    def title(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items())
        return f"Drift in stack {self.stack}: {self.highest} ({counts})"


def analyse(
    stack: str, drift: EngineReport, pending: EngineReport | None, program: Program | None
) -> DriftReport:
    classifier = Classifier(program or Program())
    findings: list[Finding] = []
    notes = [f"drift input: {n}" for n in drift.notes]
    notes += [f"pending-changes input: {n}" for n in (pending.notes if pending else [])]
    for change in drift.changes:
        if change.op not in ("update", "delete"):
            notes.append(f"{change.name}: step {change.op!r} is not a refresh result; not ranked")
            continue
        findings += classifier.classify(change)
    if program is None:
        notes.append(
            "the program's ignoreChanges and autoscaling were not consulted (pass --resources "
            "out/<stack>/resources.json from `infractl synth`)"
        )
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    drifted = sorted(
        (f for f in findings if f.severity != EXPECTED),
        key=lambda f: (rank[f.severity], f.name, f.path),
    )
    expected = [f for f in findings if f.severity == EXPECTED]
    return DriftReport(stack, drifted, expected, drift, pending, notes)


# --- the issue's memory: when each drift was first seen, and the last runs ---------------------


@dataclass
class History:
    first_seen: dict[str, str] = field(default_factory=dict)
    runs: list[list[Any]] = field(default_factory=list)  # [when, critical, high, low, pending]

    def encode(self) -> str:
        data = json.dumps({"firstSeen": self.first_seen, "runs": self.runs}, sort_keys=True)
        encoded = base64.urlsafe_b64encode(data.encode()).decode()
        return f"<!-- tbcoin-platform:drift-state:{encoded} -->"

    @classmethod
    def decode(cls, body: str | None) -> tuple[History, str]:
        """The history kept in an earlier issue body, and a note if it could not be read."""
        match = _STATE.search(body or "")
        if match is None:
            return cls(), "" if body is None else "no earlier history in the issue"
        try:
            data = json.loads(base64.urlsafe_b64decode(match.group(1)))
            first = {str(k): str(v) for k, v in data["firstSeen"].items()}
            runs = [list(r) for r in data["runs"] if isinstance(r, list) and len(r) == 5]
        except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
            return cls(), "the earlier history could not be read and starts again"
        return cls(first, runs[-HISTORY_RUNS:]), ""

    def advance(self, report: DriftReport, now: str) -> History:
        first = {f.key: self.first_seen.get(f.key, now) for f in report.findings}
        counts = report.counts()
        run = [now, *(counts.get(s, 0) for s in SEVERITIES), report.pending_changes]
        return History(first, [*self.runs, run][-HISTORY_RUNS:])


def _value(value: Any) -> str:
    if value is MISSING:
        return "—"
    # Live values come from the provider: `code` redacts what it shows of them.
    return code(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str), limit=80)


def _finding_rows(findings: list[Finding], history: History | None) -> list[str]:
    rows = []
    for f in findings:
        prop = code(f.path) if f.path else "_(the resource)_"
        row = (
            f"| {ICONS.get(f.severity, '')} {f.severity} | {code(f.name)} | {prop} | "
            f"{_value(f.old)} | {_value(f.new)} | {text(f.why)} |"
        )
        if history is not None:
            row += f" {text(history.first_seen.get(f.key, ''))} |"
        rows.append(row)
    return rows


def drift_markdown(
    report: DriftReport, history: History | None = None, limit: int = COMMENT_LIMIT
) -> str:
    for max_rows in (300, 100, 30, 10, 0):
        body = _render(report, history, max_rows)
        if len(body) <= limit:
            return body
    return body[: limit - 80] + "\n\n_✂️ Cut at GitHub's length limit; the job log has all._\n"


def _render(report: DriftReport, history: History | None, max_rows: int) -> str:
    stack = code(report.stack, table=False)
    lines = [marker(report.stack)]
    if report.findings:
        counts = ", ".join(f"{ICONS[s]} {n} {s}" for s, n in report.counts().items())
        lines += [f"## Drift in stack {stack}: {counts}", ""]
        lines += [
            "Live resources differ from the stack's state (`pulumi refresh --preview-only`), most "
            "severe first. Old values are what the last `pulumi up` left; secrets are not shown.",
            "",
            "| severity | resource | property | in state | live | why |"
            + (" first seen |" if history is not None else ""),
            "|---|---|---|---|---|---|" + ("---|" if history is not None else ""),
            *_finding_rows(report.findings[:max_rows], history),
        ]
        if len(report.findings) > max_rows:
            lines.append(f"| | … {len(report.findings) - max_rows} more not shown | | | | |")
        lines.append("")
    else:
        lines += [f"## No drift in stack {stack}", ""]
    if report.expected:
        reasons: dict[str, int] = {}
        for f in report.expected:
            reasons[f.why] = reasons.get(f.why, 0) + 1
        summary = "; ".join(f"{text(why)}: {n}" for why, n in reasons.items())
        lines += [f"**Expected, not drift:** {len(report.expected)} ({summary}).", ""]
    if report.pending is not None:
        if report.pending.changes:
            section, _ = stack_section(report.pending, report.stack, max_rows)
            lines += [
                "**Pending code changes** (merged but not applied yet; `pulumi preview`): the "
                "Deploy workflow applies them. They are not drift.",
                "",
                section,
            ]
        else:
            lines += ["**Pending code changes:** none; the code matches the state.", ""]
    if report.waivers:
        lines += [
            f"**Policy waivers** ({len(report.waivers)}): each excuses one policy for the "
            "resources it selects until its date, then the violations count again "
            "(`docs/runbooks/waivers.md`).",
            "",
            *markdown_table(report.waivers),
            "",
        ]
    if history and history.runs:
        lines += [
            "<details>",
            "<summary>Last runs</summary>",
            "",
            "| run | critical | high | low | pending |",
            "|---|---|---|---|---|",
            *(f"| {' | '.join(text(v) for v in run)} |" for run in history.runs[::-1]),
            "",
            "</details>",
            "",
        ]
    if report.notes:
        lines += [f"_{text('Notes: ' + '; '.join(report.notes), limit=2000)}_", ""]
    if report.findings:
        lines += [
            "Runbook: `docs/runbooks/drift.md` (put the code's values back with the **Drift "
            "remediation** workflow, or change the code to accept the new values).",
            "",
        ]
    if history is not None:
        lines.append(history.encode())
    return "\n".join(lines).rstrip() + "\n"


def remediation_refusal(report: DriftReport, allowed: str) -> str:
    """Why `pulumi up --refresh` must not run for this drift, or "" if it may.

    `allowed` is the stack's `tbcoin-platform:drift.remediation`: "off", "low" or "high";
    critical drift is never remediated by the workflow.
    """
    if allowed == "off":
        return "remediation is off for this stack (tbcoin-platform:drift.remediation)"
    if not report.findings:
        return "there is no drift to remediate"
    if report.pending_changes:
        return "code changes are pending as well; apply them with the Deploy workflow first"
    if report.highest == "critical":
        return "critical drift is never remediated automatically; follow docs/runbooks/drift.md"
    if SEVERITIES.index(report.highest) < SEVERITIES.index(allowed):
        return f"{report.highest} drift is above what this stack allows ({allowed})"
    return ""


@dataclass(frozen=True)
class DriftRequest:
    """What `infractl drift` was asked for (see its --help)."""

    stack: str
    input: Path | None = None
    pending_input: Path | None = None
    resources: Path | None = None
    remediation_check: bool = False
    open_issue: bool = False
    repo: str | None = None
    author: str | None = None
    rulesets: bool = False


@dataclass(frozen=True)
class DriftResult:
    output: str  # for stdout
    exit_code: int
    note: str | None = None  # for stderr


def command(request: DriftRequest) -> DriftResult:
    """`infractl drift`: both signals (recorded or run here), ranked, then printed, checked
    against the remediation switch, or kept in the stack's drift issue."""
    stack = check_stack_name(request.stack)
    if request.input:
        refreshed = read_engine_output(request.input)
        pending = read_engine_output(request.pending_input) if request.pending_input else None
    elif request.pending_input:
        raise UsageError("--pending-input needs --input (the recorded refresh)")
    else:
        from infractl.project import find_project

        project = find_project(Path.cwd())
        refreshed, pending = run_refresh_preview(project, stack), run_preview(project, stack)
    program = read_program(request.resources) if request.resources else None
    notes: list[str] = []
    if request.rulesets:
        notes = _add_ruleset_drift(stack, refreshed)
    report = analyse(stack, refreshed, pending, program)
    report.notes += notes
    report.waivers = _waivers(stack)
    if request.remediation_check:
        return _remediation_check(stack, report)
    if not request.open_issue:
        return DriftResult(drift_markdown(report), report.exit_code())
    return _sync_issue(request, report)


def _waivers(stack: str) -> list[Standing]:
    """The stack's waivers (a malformed file: exit 2). Read from the project the command runs
    in; recorded inputs read elsewhere have none."""
    from infractl.project import find_project
    from infractl.waivers import load, standings, today

    try:
        project = find_project(Path.cwd())
    except UsageError:
        return []
    return standings(load(project, stack), None, today())


def _add_ruleset_drift(stack: str, refreshed: EngineReport) -> list[str]:
    """Join what the REST API shows of each governed ruleset (enforcement, bypass actors) to the
    refresh's changes, where the refresh did not report the same property."""
    from infractl.ops.github_api import GitHubApi
    from infractl.ops.ruleset_drift import ruleset_changes
    from infractl.project import open_stack

    changes, notes = ruleset_changes(GitHubApi.from_env(), stack, open_stack(stack).load())
    seen = {(c.urn, d.path) for c in refreshed.changes for d in c.diffs}
    gone = {c.urn for c in refreshed.changes if c.op == "delete"}
    for change in changes:
        change.diffs = [d for d in change.diffs if (change.urn, d.path) not in seen]
        if change.urn not in gone and (change.diffs or change.op == "delete"):
            refreshed.changes.append(change)
    return [f"rulesets read through the REST API: {n}" for n in notes]


def _remediation_check(stack: str, report: DriftReport) -> DriftResult:
    from infractl.project import open_stack

    allowed = open_stack(stack).load().drift.remediation
    refusal = remediation_refusal(report, allowed)
    if refusal:
        return DriftResult(
            f"remediation refused for stack {stack}: {refusal}\n", REMEDIATION_REFUSED
        )
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items())
    return DriftResult(
        f"remediation allowed for stack {stack}: {counts} (up to {allowed} allowed)\n",
        REMEDIATION_ALLOWED,
    )


def _sync_issue(request: DriftRequest, report: DriftReport) -> DriftResult:
    from datetime import UTC, datetime

    from infractl.ops.github_api import GitHubTarget, sync_drift_issue

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rendered: list[str] = []

    def update(previous: str | None) -> tuple[str, str] | None:
        history, note = History.decode(previous)
        if note:
            report.notes.append(note)
        rendered.append(drift_markdown(report, history.advance(report, now)))
        return (report.title(), rendered[-1]) if report.findings else None

    target = GitHubTarget.from_env(request.repo, request.author)
    outcome = sync_drift_issue(target, marker(report.stack), update)
    return DriftResult(rendered[-1], report.exit_code(), note=f"drift issue: {outcome}")
