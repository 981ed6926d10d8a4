"""Read what the real Pulumi CLI emits into one model, whichever of its two formats arrives.

- `pulumi preview --json`: one document `{steps[], diagnostics[], changeSummary, …}`; detailed
  diff entries are `{kind, inputDiff}`.
- An engine event log (`--event-log`, `up --json`, Automation API): one JSON object per line,
  `{sequence, timestamp, <event>}`; detailed diff entries are `{diffKind, inputDiff}`.

Malformed input never raises past `read_engine_output`/`parse_engine_output` except as
`EngineOutputError` (one line): unreadable lines, unknown events and fields of the wrong type are
skipped and counted in `notes`, so a report can say what it could not read. Input with nothing
readable at all, input that is not UTF-8 text, too large or too deeply nested, and output that
disagrees with itself (see `check_consistent`) are errors: no verdict may rest on them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.config.documents import DocumentError, read_bounded
from infractl.errors import InfractlError
from secret_patterns import redact

# Steps that change nothing; everything else is shown.
QUIET_OPS = {"same", "refresh", "read", "discard", "remove-pending-replace"}
# The engine spells one replacement as up to three steps; a report shows one "replace".
REPLACE_STEPS = {"replace", "create-replacement", "delete-replaced"}
DANGEROUS = {"replace", "delete"}
# Steps the engine's summary does not count (pulumi pkg/resource/deploy/step.go `Logical()` is
# false for the halves of a replacement; remove-pending-replace is internal); a read is counted
# only when it changed something, so reads are not compared.
UNCOUNTED_STEPS = {
    "create-replacement", "delete-replaced", "read-replacement", "discard-replaced",
    "import-replacement", "remove-pending-replace", "read", "read-discard",
}  # fmt: skip
KNOWN_EVENTS = {
    "preludeEvent", "resourcePreEvent", "resOutputsEvent", "resOpFailedEvent", "diagnosticEvent",
    "stdoutEvent", "policyEvent", "policyLoadEvent", "policyAnalyzeSummaryEvent",
    "policyRemediateSummaryEvent", "policyAnalyzeStackSummaryEvent", "policyRemediationEvent",
    "summaryEvent", "cancelEvent", "startDebuggingEvent", "progressEvent", "errorEvent",
}  # fmt: skip


# A real engine log of a few thousand resources is tens of MiB; beyond this it is not one.
MAX_BYTES = 256 * 1024 * 1024


class EngineOutputError(InfractlError):
    """Nothing in the input could be read as Pulumi engine output."""


@dataclass
class PropertyDiff:
    """One changed property: its Pulumi property path, the diff kind and the values either side
    (`MISSING` where the property does not exist on that side)."""

    path: str
    kind: str
    old: Any
    new: Any

    @property
    def replaces(self) -> bool:
        """The provider says this change cannot be made in place (`update-replace`, …)."""
        return self.kind.endswith("-replace")


MISSING: Any = None  # the JSON engine output cannot tell an absent property from null


@dataclass
class Change:
    urn: str
    type: str
    op: str
    diffs: list[PropertyDiff] = field(default_factory=list)
    protected: bool = False
    failed: bool = False
    # For a replacement: the top-level properties that force it (the step's `keys`).
    replace_keys: list[str] = field(default_factory=list)
    # Its inputs (the new ones, or the old for a delete): what names it in config.
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def paths(self) -> list[str]:
        return [d.path for d in self.diffs]

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
    # The engine's own summary (`summaryEvent`, `changeSummary`) arrived: without it the output
    # was cut short and says nothing about what was not reached.
    complete: bool = False
    # What the events themselves show, to hold against the summary (check_consistent).
    steps: Counter[str] = field(default_factory=Counter)
    # What ran: each provider's version (from its `pulumi:providers:*` resource) and each
    # policy pack's (from the summary), for the report's context line.
    providers: dict[str, str] = field(default_factory=dict)
    packs: dict[str, str] = field(default_factory=dict)
    sames_listed: bool = True  # `pulumi preview --json` lists `same` steps only with --show-sames
    stacks: set[str] = field(default_factory=set)  # "<project>/<stack>" of every URN seen
    # URN -> (type, inputs) of every resource the run goes on declaring, `same` steps included
    # (which `changes` leaves out): what holds for the stack after it, not only what changes.
    declared: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # order of events, found while parsing

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(c.op for c in self.changes).items()))

    @property
    def failed(self) -> str:
        """Why the run did not finish as planned ("" if it did): its changes are not the plan."""
        if self.maybe_corrupt:
            return "the run failed and the state may be corrupt (maybeCorrupt)"
        if self.result == "failed":
            return "the run failed (its summary says `result: failed`)"
        return ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _stack_of(urn: str) -> str:
    parts = urn.split(":")
    return parts[2] if urn.startswith("urn:pulumi:") and len(parts) > 2 else ""


def _project_stack(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::…` -> "<project>/<stack>" ("" for anything else)."""
    parts = urn.split("::")
    stack = _stack_of(urn)
    return f"{parts[1]}/{stack}" if stack and len(parts) > 2 else ""


def _default_provider(urn: str) -> bool:
    # Steps of the engine's default providers are internal: logged, never counted.
    parts = urn.split("::")
    return (
        len(parts) > 3
        and parts[2].startswith("pulumi:providers:")
        and (parts[3].startswith("default"))
    )


def _type_of(urn: str) -> str:
    try:
        return urn.split("::")[2].split("$")[-1]
    except IndexError:
        return ""


_SEGMENT = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def split_path(path: str) -> list[str | int]:
    """`spec.template["a.b"].containers[0]` -> ["spec", "template", "a.b", "containers", 0];
    the engine's property path syntax. Unparseable paths give an empty list."""
    segments: list[str | int] = []
    position = 0
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if match is None or match.end() == position:
            return []
        name, index, quoted = match.groups()
        if index is not None:
            segments.append(int(index))
        elif quoted is not None:
            segments.append(re.sub(r"\\(.)", r"\1", quoted))
        else:
            segments.append(name)
        position = match.end()
    return segments


def value_at(document: Any, path: str) -> Any:
    """The value at a property path, or MISSING."""
    value = document
    for segment in split_path(path) or [path]:
        in_list = isinstance(value, list) and isinstance(segment, int) and 0 <= segment < len(value)
        in_dict = isinstance(value, dict) and isinstance(segment, str) and segment in value
        if not (in_list or in_dict):
            return MISSING
        value = value[segment]
    return value


def _diffs(meta: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> list[PropertyDiff]:
    """Changed properties with their values: the detailed diff, else the plain diff list."""
    detailed = meta.get("detailedDiff")
    entries: dict[str, str] = {}
    if isinstance(detailed, dict) and detailed:
        for path, entry in detailed.items():
            entry = _dict(entry)
            entries[str(path)] = _text(entry.get("diffKind") or entry.get("kind")) or "update"
    else:
        plain = meta.get("diffs") or meta.get("keys") or meta.get("diffReasons")
        if isinstance(plain, list):
            entries = {str(p): "update" for p in plain if isinstance(p, str | int)}
    diffs = []
    for path in sorted(entries):
        sides = []
        for state in (old, new):
            value = value_at(_dict(state.get("inputs")), path)
            if value is MISSING:
                value = value_at(_dict(state.get("outputs")), path)
            sides.append(value)
        diffs.append(PropertyDiff(path, entries[path], sides[0], sides[1]))
    return diffs


def _names(value: Any) -> list[str]:
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _provider_version(report: EngineReport, urn: str, states: list[dict[str, Any]]) -> None:
    kind = _type_of(urn)
    if kind.startswith("pulumi:providers:"):
        for state in states:
            version = _dict(state.get("inputs")).get("version")
            if isinstance(version, str) and version:
                report.providers[kind.removeprefix("pulumi:providers:")] = version


def _op(op: Any) -> str:
    op = _text(op) or "unknown"
    return "replace" if op in REPLACE_STEPS else op


def _clean(message: Any) -> str:
    """Drop the CLI's colour markup (`<{%reset%}>`) and surrounding blank lines, and redact
    well-known token formats as config errors are: engine and policy messages quote what
    programs and providers print, and reports reach PR comments and issues."""
    return redact(re.sub(r"<\{%[a-z0-9 ]*%\}>", "", _text(message)).strip())


def _counts(value: Any) -> dict[str, int]:
    return {
        str(k): v for k, v in _dict(value).items() if isinstance(v, int) and not isinstance(v, bool)
    }


def _diagnostic(body: dict[str, Any]) -> Diagnostic:
    severity, urn = _text(body.get("severity")), _text(body.get("urn"))
    return Diagnostic(severity, _clean(body.get("message")), urn)


def _parse_digest(source: str, document: dict[str, Any]) -> EngineReport:
    report = EngineReport(source=source, format="preview-json")
    steps = document.get("steps")
    if not isinstance(steps, list):
        steps = []
        if document.get("steps") is not None:
            report.notes.append("`steps` is not a list and was skipped")
    skipped = 0
    for step in steps:
        urn = _text(_dict(step).get("urn"))
        if not urn:
            skipped += 1
            continue
        raw_op = _text(step.get("op")) or "unknown"
        report.stacks.add(_project_stack(urn))
        if raw_op not in UNCOUNTED_STEPS and not _default_provider(urn):
            report.steps[raw_op] += 1
        op = _op(raw_op)
        old, new = _dict(step.get("oldState")), _dict(step.get("newState"))
        _provider_version(report, urn, [new, old])
        _declare(report, urn, new)
        if op in QUIET_OPS:
            continue
        meta = {"detailedDiff": step.get("detailedDiff"), "diffReasons": step.get("diffReasons")}
        report.changes.append(
            Change(
                urn=urn,
                type=_text((old or new).get("type")) or _type_of(urn),
                op=op,
                diffs=_diffs(meta, old, new),
                protected=old.get("protect") is True,
                replace_keys=_names(step.get("replaceReasons")) if op == "replace" else [],
                inputs=_dict((new or old).get("inputs")),
            )
        )
    if skipped:
        report.notes.append(f"{skipped} step(s) without a URN were skipped")
    diagnostics = document.get("diagnostics")
    for diag in diagnostics if isinstance(diagnostics, list) else []:
        if isinstance(diag, dict):
            report.diagnostics.append(_diagnostic(diag))
    report.sames_listed = report.steps["same"] > 0
    report.summary = _counts(document.get("changeSummary"))
    report.complete = isinstance(document.get("changeSummary"), dict)
    report.maybe_corrupt = document.get("maybeCorrupt") is True
    return report


def _declare(report: EngineReport, urn: str, new: dict[str, Any]) -> None:
    inputs = new.get("inputs")
    if isinstance(inputs, dict) and inputs:  # a delete has no new state
        report.declared[urn] = (_text(new.get("type")) or _type_of(urn), inputs)


def _parse_events(source: str, lines: list[str]) -> EngineReport:
    report = EngineReport(source=source, format="event-log")
    # Keyed by URN and old id: a refresh can show one URN twice (a pending delete and the live one).
    changes: dict[tuple[str, str], Change] = {}
    # Each counted step by URN and old id, with its op (a refresh's outcome arrives later).
    counted: dict[tuple[str, str], str] = {}
    unreadable = unknown = 0
    summary_line = preludes = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            unreadable += 1
            continue
        kinds = [k for k in _dict(event) if k not in ("sequence", "timestamp")]
        if not kinds or kinds[0] not in KNOWN_EVENTS:
            unknown += 1
            continue
        kind, body = kinds[0], _dict(event[kinds[0]])
        if summary_line and kind != "cancelEvent" and not report.problems:
            report.problems.append(
                f"the engine's summary (line {summary_line}) is followed by a {kind} (line "
                f"{number}): the log goes on after its run ended (two logs joined?)"
            )
        if kind == "preludeEvent":
            preludes += 1
        if kind in ("resourcePreEvent", "resOutputsEvent", "resOpFailedEvent"):
            meta = _dict(body.get("metadata"))
            urn = _text(meta.get("urn"))
            if not urn:
                unreadable += 1
                continue
            report.stacks.add(_project_stack(urn))
            raw_op = _text(meta.get("op")) or "unknown"
            op = _op(raw_op)
            old, new = _dict(meta.get("old")), _dict(meta.get("new"))
            key = (urn, str(old.get("id", "")))
            _provider_version(report, urn, [new, old])
            _declare(report, urn, new)
            if _default_provider(urn) or raw_op in UNCOUNTED_STEPS:
                pass
            elif kind == "resOpFailedEvent":
                counted[key] = "failed"  # the engine counts only steps that succeeded
            elif counted.get(key, "refresh") == "refresh":
                counted[key] = raw_op  # a refresh step counts as its outcome
            change = changes.get(key)
            # resOutputsEvent carries the final op (a refresh step becomes same/update/delete). A
            # delete-before-replace announces its delete-replaced step first, without the diff:
            # the replace step carries what forced the replacement.
            if (
                change is None
                or (kind == "resOutputsEvent" and op != change.op)
                or change.op == "refresh"
                or (raw_op == "replace" and not change.diffs and not change.replace_keys)
            ):
                failed = change is not None and change.failed
                change = Change(
                    urn,
                    _text(meta.get("type")) or _type_of(urn),
                    op,
                    _diffs(meta, old, new),
                    old.get("protect") is True,
                    replace_keys=_names(meta.get("keys")) if op == "replace" else [],
                    inputs=_dict((new or old).get("inputs")),
                    failed=failed,
                )
                changes[key] = change
            if kind == "resOpFailedEvent":
                change.failed = True
        elif kind == "diagnosticEvent":
            report.diagnostics.append(_diagnostic(body))
        elif kind == "policyEvent":
            report.stacks.add(_project_stack(_text(body.get("resourceUrn"))))
            report.violations.append(
                PolicyViolation(
                    policy=_text(body.get("policyName")),
                    pack=_text(body.get("policyPackName")),
                    enforcement=_text(body.get("enforcementLevel")),
                    severity=_text(body.get("severity")) or "unspecified",
                    urn=_text(body.get("resourceUrn")),
                    message=_clean(body.get("message")),
                )
            )
        elif kind == "summaryEvent":
            if summary_line and not report.problems:
                report.problems.append(
                    f"two summaries (lines {summary_line} and {number}): two runs in one log"
                )
            summary_line = number
            report.summary = _counts(body.get("resourceChanges"))
            report.packs = {
                str(k).split("|", 1)[0]: v
                for k, v in _dict(body.get("PolicyPacks")).items()
                if isinstance(v, str)
            }
            report.result = _text(body.get("result"))
            report.complete = True
            report.maybe_corrupt = body.get("maybeCorrupt") is True
    report.changes = [c for c in changes.values() if c.op not in QUIET_OPS]
    report.steps = Counter(op for op in counted.values() if op != "failed")
    if preludes > 1 and not report.problems:
        report.problems.append(f"{preludes} runs began in one log (preludeEvent)")
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
    """Read and parse a recorded engine output file; every failure is one EngineOutputError line."""
    try:
        data = read_bounded(path, MAX_BYTES)
    except DocumentError as exc:
        raise EngineOutputError(f"{path}: {exc}") from None
    return decode_engine_output(str(path), data)


def decode_engine_output(source: str, data: bytes) -> EngineReport:
    if len(data) > MAX_BYTES:
        raise EngineOutputError(f"{source}: larger than {MAX_BYTES:,} bytes; not engine output")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EngineOutputError(
            f"{source}: not UTF-8 text (byte {exc.start}); expected Pulumi's JSON output"
        ) from None
    return parse_engine_output(source, text)


def parse_engine_output(source: str, text: str) -> EngineReport:
    """Parse either format; EngineOutputError only when nothing at all is readable."""
    stripped = text.strip()
    if not stripped:
        raise EngineOutputError(f"{source}: empty input")
    report: EngineReport
    try:
        document = json.loads(stripped)
    except RecursionError:
        raise EngineOutputError(f"{source}: JSON nested too deeply to be engine output") from None
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
    except ValueError as exc:  # valid JSON syntax Python will not read, e.g. a 5000-digit integer
        raise EngineOutputError(f"{source}: not Pulumi engine output ({exc})") from None
    else:
        if isinstance(document, dict) and "steps" in document:
            report = _parse_digest(source, document)
        elif isinstance(document, dict):
            report = _parse_events(source, [stripped])
        else:
            raise EngineOutputError(
                f"{source}: expected a JSON object, got {type(document).__name__}"
            )
    if not report.complete:
        raise EngineOutputError(
            f"{source}: no summary from the engine (no `summaryEvent` in an event log, no "
            "`changeSummary` in preview JSON): the output was cut short, so it cannot say "
            "whether anything changed"
        )
    check_consistent(report)
    report.stack = next((s.rsplit("/", 1)[-1] for s in report.stacks if s), "")
    return report


def _spelled(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {op}" for op, n in sorted(counts.items()) if n) or "nothing"


def check_consistent(report: EngineReport) -> None:
    """The output must agree with itself before anything is concluded from it: one run of one
    stack, its summary last, and (unless the run failed, when the engine stops counting) each
    operation as often in the events as in the summary. Otherwise one EngineOutputError line."""
    source = report.source
    stacks = sorted(s for s in report.stacks if s)
    if len(stacks) > 1:
        raise EngineOutputError(
            f"{source}: resources of {len(stacks)} stacks ({', '.join(stacks[:4])}) in one "
            "output; give each stack's output as an input of its own"
        )
    if report.problems:
        raise EngineOutputError(f"{source}: {report.problems[0]}; no verdict from it")
    if report.failed:
        return
    ignored = {"read"} | (set() if report.sames_listed else {"same"})
    summary = {op: n for op, n in report.summary.items() if op not in ignored and n}
    events = {op: n for op, n in report.steps.items() if op not in ignored and n}
    if summary != events:
        what = "steps" if report.format == "preview-json" else "events"
        raise EngineOutputError(
            f"{source}: the engine's summary counts {_spelled(summary)} but its {what} show "
            f"{_spelled(events)}: part of the output is missing or was added; no verdict from it"
        )


def _looks_like_events(lines: list[str]) -> bool:
    first = lines[0].strip()
    return first.startswith("{") and first.endswith("}")
