"""Read what the real Pulumi CLI emits into one model, whichever of its two formats arrives.

- `pulumi preview --json`: one document `{steps[], diagnostics[], changeSummary, …}`; detailed
  diff entries are `{kind, inputDiff}`.
- An engine event log (`--event-log`, `up --json`, Automation API): one JSON object per line,
  `{sequence, timestamp, <event>}`; detailed diff entries are `{diffKind, inputDiff}`.

Malformed input never raises past `parse_engine_output`: unreadable lines, unknown events and
missing fields are skipped and counted in `notes`, so a report can say what it could not read.
Only input with nothing readable at all is an error.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infractl.errors import InfractlError, UsageError

# Steps that change nothing; everything else is shown.
QUIET_OPS = {"same", "refresh", "read", "discard", "remove-pending-replace"}
# The engine spells one replacement as up to three steps; a report shows one "replace".
REPLACE_STEPS = {"replace", "create-replacement", "delete-replaced"}
DANGEROUS = {"replace", "delete"}
KNOWN_EVENTS = {
    "preludeEvent", "resourcePreEvent", "resOutputsEvent", "resOpFailedEvent", "diagnosticEvent",
    "stdoutEvent", "policyEvent", "policyLoadEvent", "policyAnalyzeSummaryEvent",
    "policyRemediateSummaryEvent", "policyAnalyzeStackSummaryEvent", "policyRemediationEvent",
    "summaryEvent", "cancelEvent", "startDebuggingEvent", "progressEvent", "errorEvent",
}  # fmt: skip


class EngineOutputError(InfractlError):
    """Nothing in the input could be read as Pulumi engine output."""


@dataclass
class Change:
    urn: str
    type: str
    op: str
    paths: list[str] = field(default_factory=list)
    protected: bool = False
    failed: bool = False

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def dangerous(self) -> bool:
        return self.op in DANGEROUS or (self.protected and self.op != "create")


@dataclass
class Diagnostic:
    severity: str
    message: str
    urn: str = ""


@dataclass
class PolicyViolation:
    policy: str
    pack: str
    enforcement: str
    severity: str
    urn: str
    message: str


@dataclass
class EngineReport:
    source: str
    format: str  # "preview-json" or "event-log"
    stack: str = ""
    changes: list[Change] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    violations: list[PolicyViolation] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)
    result: str = ""
    maybe_corrupt: bool = False
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(c.op for c in self.changes).items()))


def _stack_of(urn: str) -> str:
    parts = urn.split(":")
    return parts[2] if urn.startswith("urn:pulumi:") and len(parts) > 2 else ""


def _type_of(urn: str) -> str:
    try:
        return urn.split("::")[2].split("$")[-1]
    except IndexError:
        return ""


def _paths(detailed: Any, fallback: Any) -> list[str]:
    """Changed property paths: the detailed diff's keys, else the plain diff list (deduped)."""
    if isinstance(detailed, dict) and detailed:
        return sorted(detailed)
    if isinstance(fallback, list):
        return sorted({str(p) for p in fallback})
    return []


def _op(op: Any) -> str:
    op = str(op or "unknown")
    return "replace" if op in REPLACE_STEPS else op


def _clean(message: str) -> str:
    """Drop the CLI's colour markup (`<{%reset%}>`) and surrounding blank lines."""
    for tag in ("<{%reset%}>", "<{%bold%}>", "<{%fg 1%}>", "<{%fg 3%}>", "<{%fg 2%}>"):
        message = message.replace(tag, "")
    return message.strip()


def _parse_digest(source: str, document: dict[str, Any]) -> EngineReport:
    report = EngineReport(source=source, format="preview-json")
    for step in document.get("steps") or []:
        if not isinstance(step, dict) or "urn" not in step:
            report.notes.append("a step without a URN was skipped")
            continue
        op = _op(step.get("op"))
        if op in QUIET_OPS:
            continue
        state = step.get("oldState") or step.get("newState") or {}
        report.changes.append(
            Change(
                urn=step["urn"],
                type=state.get("type") or _type_of(step["urn"]),
                op=op,
                paths=_paths(step.get("detailedDiff"), step.get("diffReasons")),
                protected=bool((step.get("oldState") or {}).get("protect")),
            )
        )
    for diag in document.get("diagnostics") or []:
        if isinstance(diag, dict):
            report.diagnostics.append(
                Diagnostic(
                    str(diag.get("severity", "")),
                    _clean(str(diag.get("message", ""))),
                    str(diag.get("urn", "")),
                )
            )
    summary = document.get("changeSummary") or {}
    report.summary = {str(k): int(v) for k, v in summary.items() if isinstance(v, int)}
    report.maybe_corrupt = bool(document.get("maybeCorrupt"))
    return report


def _parse_events(source: str, lines: list[str]) -> EngineReport:
    report = EngineReport(source=source, format="event-log")
    # Keyed by URN and old id: a refresh can show one URN twice (a pending delete and the live one).
    changes: dict[tuple[str, str], Change] = {}
    unreadable = unknown = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            unreadable += 1
            continue
        if not isinstance(event, dict):
            unreadable += 1
            continue
        kinds = [k for k in event if k not in ("sequence", "timestamp")]
        if not kinds or kinds[0] not in KNOWN_EVENTS:
            unknown += 1
            continue
        kind, body = kinds[0], event[kinds[0]] or {}
        if kind in ("resourcePreEvent", "resOutputsEvent", "resOpFailedEvent"):
            meta = body.get("metadata") or {}
            urn = meta.get("urn")
            if not urn:
                unreadable += 1
                continue
            op = _op(meta.get("op"))
            old = meta.get("old") or {}
            key = (urn, str(old.get("id", "")))
            change = changes.get(key)
            # resOutputsEvent carries the final op (a refresh step becomes same/update/delete).
            if (
                change is None
                or (kind == "resOutputsEvent" and op != change.op)
                or change.op == "refresh"
            ):
                paths = _paths(meta.get("detailedDiff"), meta.get("diffs") or meta.get("keys"))
                change = Change(
                    urn, meta.get("type") or _type_of(urn), op, paths, bool(old.get("protect"))
                )
                changes[key] = change
            if kind == "resOpFailedEvent":
                change.failed = True
        elif kind == "diagnosticEvent":
            report.diagnostics.append(
                Diagnostic(
                    str(body.get("severity", "")),
                    _clean(str(body.get("message", ""))),
                    str(body.get("urn", "")),
                )
            )
        elif kind == "policyEvent":
            report.violations.append(
                PolicyViolation(
                    policy=str(body.get("policyName", "")),
                    pack=str(body.get("policyPackName", "")),
                    enforcement=str(body.get("enforcementLevel", "")),
                    severity=str(body.get("severity") or "unspecified"),
                    urn=str(body.get("resourceUrn", "")),
                    message=_clean(str(body.get("message", ""))),
                )
            )
        elif kind == "summaryEvent":
            changes_summary = body.get("resourceChanges") or {}
            report.summary = {
                str(k): int(v) for k, v in changes_summary.items() if isinstance(v, int)
            }
            report.result = str(body.get("result") or "")
            report.maybe_corrupt = bool(body.get("maybeCorrupt"))
    report.changes = [c for c in changes.values() if c.op not in QUIET_OPS]
    if unreadable:
        report.notes.append(
            f"{unreadable} line(s) could not be read as engine events and were skipped"
        )
    if unknown:
        report.notes.append(f"{unknown} event(s) of unknown type were skipped")
    nothing = not (changes or report.summary or report.violations or report.diagnostics)
    if nothing and (unreadable or unknown):
        raise EngineOutputError(f"{source}: no Pulumi engine events found")
    return report


def read_engine_output(path: Path) -> EngineReport:
    """`parse_engine_output` of a file; a file that cannot be read is a usage error."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    return parse_engine_output(str(path), text)


def parse_engine_output(source: str, text: str) -> EngineReport:
    """Parse either format; EngineOutputError only when nothing at all is readable."""
    stripped = text.strip()
    if not stripped:
        raise EngineOutputError(f"{source}: empty input")
    report: EngineReport
    try:
        document = json.loads(stripped)
    except json.JSONDecodeError as exc:
        lines = stripped.splitlines()
        if stripped.startswith("{") and "\n" in stripped and _looks_like_events(lines):
            report = _parse_events(source, lines)
        elif stripped.startswith("{") and len(lines) > 1 and lines[0].strip() == "{":
            raise EngineOutputError(
                f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                "a `pulumi preview --json` document may have been cut off"
            ) from None
        else:
            report = _parse_events(source, lines)
    else:
        if isinstance(document, dict) and "steps" in document:
            report = _parse_digest(source, document)
        elif isinstance(document, dict):
            report = _parse_events(source, [stripped])
        else:
            raise EngineOutputError(
                f"{source}: expected a JSON object, got {type(document).__name__}"
            )
    urns = [c.urn for c in report.changes] + [v.urn for v in report.violations]
    report.stack = next((s for s in map(_stack_of, urns) if s), "")
    return report


def _looks_like_events(lines: list[str]) -> bool:
    first = lines[0].strip()
    return first.startswith("{") and first.endswith("}")
