"""Markdown (for a PR comment) and JSON summaries of what `pulumi preview` would do.

The comment opens with the one thing that matters most, then says what was previewed (commit,
engine, provider and pack versions, what happens on merge), then per stack a list of sections
(`SECTIONS`): each pending change as old -> new per property, ranked by the drift severity
rules and, for settings the security floor covers, weakening or strengthening (after any
error-budget overrides in force); policy violations with the config key behind them; the stack's
policy waivers; diagnostics; what could not be read. A section is a function of one stack's
view: add one to the list to extend the comment.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infractl.errors import UsageError
from infractl.markdown import code, text
from infractl.ops.budget_overrides import override_lines, overrides
from infractl.ops.engine_output import (
    MISSING,
    EngineOutputError,
    EngineReport,
    PolicyViolation,
    read_engine_output,
)
from infractl.ops.plan_risk import REPLACED, WEAKENS, Row, config_key, rank, shown_value
from infractl.ops.severity import EXPECTED
from secret_patterns import redact

MARKER = "<!-- tbcoin-platform:preview-report -->"
# GitHub refuses issue comments longer than this many characters.
COMMENT_LIMIT = 65_536
FOLD_AFTER = 10
ORDER = ["delete", "replace", "update", "create", "import", "failed"]
ICONS = {"critical": "🔴", "high": "🟠", "low": "🟡"}
# A value longer than this is cut in its table cell and shown whole under the table.
CELL = 60
LONG_VALUE = 1500
DIFF_LINES = 40
# The pack ends a violation's message with the stack setting behind it (policies/…/common.py).
CONFIG_KEY = re.compile(r"\s*Config key: (\S+?)\.?$")


@dataclass
class Context:
    """What was previewed, beyond the engine output itself."""

    commit: str = ""
    engine: str = ""  # the Pulumi CLI's version
    base: str = ""  # for a plan against another commit (`check --base`): that commit
    dirty: bool = False  # the tree planned has changes not committed
    on_merge: dict[str, str] = field(default_factory=dict)  # stack -> what merging does
    # stack -> its policy waivers part (infractl/ops/waiver_changes.py), read where the project is
    waivers: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class StackView:
    """One stack's part of the comment, and how much of it may be shown."""

    stack: str
    report: EngineReport
    rows: list[Row]
    context: Context
    max_rows: int
    left_out: int = 0

    @property
    def reviewed(self) -> list[Row]:
        return [r for r in self.rows if r.severity != EXPECTED]


Section = Callable[[StackView], list[str]]


def _rank(op: str) -> int:
    return ORDER.index(op) if op in ORDER else len(ORDER)


def _counts(report: EngineReport) -> str:
    counts = report.counts()
    parts = [f"{n} to {text(op)}" for op, n in sorted(counts.items(), key=lambda kv: _rank(kv[0]))]
    if report.failed:
        # Never "no changes": the run stopped before it reached everything.
        so_far = f" (so far: {', '.join(parts)})" if parts else ""
        return f"❌ failed, not a complete plan{so_far}"
    return ", ".join(parts) or "no changes"


def _fold(title: str, body: list[str], rows: int) -> list[str]:
    if rows <= FOLD_AFTER:
        return body
    return ["<details>", f"<summary>{title}</summary>", "", *body, "", "</details>"]


def _shown(value: Any) -> str:
    # Engine values quote what programs and providers hold: redacted as engine messages are.
    return _redacted(shown_value(value))


@functools.lru_cache(maxsize=4096)
def _redacted(shown: str) -> str:
    # A value is shown up to three times (cell, opening line, in full) in each of the comment's
    # size attempts; redact() costs ~17 ms on a 3,000-character value.
    return redact(shown)


def _cell(value: Any) -> str:
    return "—" if value is MISSING else code(_shown(value), limit=CELL)


def _kind(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def _risk(row: Row) -> str:
    direction = f" · **{row.direction}**" if row.direction else ""
    return f"{ICONS.get(row.severity, '')} {row.severity}{direction}"


def _forcing(row: Row) -> list[str]:
    detailed = [d.path for d in row.change.diffs if d.replaces]
    return detailed or row.change.replace_keys


def _why(row: Row) -> str:
    if row.why == REPLACED and _forcing(row):
        forced = ", ".join(code(p) for p in _forcing(row)[:4])
        return f"{text(row.why)}; forced by {forced}"
    key = config_key(row)
    return text(row.why) + (f"; set by {code(key)}" if key else "")


def _property(row: Row) -> str:
    if not row.path:
        return "_(the resource)_"
    return code(row.path) + (" ⇢ **forces replacement**" if row.forces_replacement else "")


def _flags(row: Row) -> str:
    c = row.change
    return "".join(("🔒" if c.protected else "", "❌" if c.failed else ""))


def _change_row(row: Row) -> str:
    values = "" if not row.path else f"{_cell(row.old)} → {_cell(row.new)}"
    return (
        f"| {_risk(row)} | {text(row.change.op)}{_flags(row)} | {code(row.change.name)} "
        f"{text(_kind(row.change.type))} | {_property(row)} | {values} | {_why(row)} |"
    )


def headline_section(view: StackView) -> list[str]:
    return [f"### {code(view.stack, table=False)}: {_counts(view.report)}", ""]


def context_section(view: StackView) -> list[str]:
    r = view.report
    parts = [f"{text(name)} {text(version)}" for name, version in sorted(r.providers.items())]
    parts += [f"pack {text(name)} {text(version)}" for name, version in sorted(r.packs.items())]
    merge = view.context.on_merge.get(view.stack, "")
    if merge:
        parts.append(f"on merge: {merge}")
    return [f"_{' · '.join(parts)}_", ""] if parts else []


def warnings_section(view: StackView) -> list[str]:
    report, lines = view.report, []
    dangerous = [c for c in report.changes if c.dangerous]
    replaced = sum(c.op == "replace" for c in dangerous)
    deleted = sum(c.op == "delete" for c in dangerous)
    protected = sum(c.protected for c in report.changes)
    if dangerous:
        parts = [
            f"{replaced} replacement(s)" if replaced else "",
            f"{deleted} deletion(s)" if deleted else "",
        ]
        warning = (
            "> ⚠️ **Dangerous:** " + ", ".join(p for p in parts if p)
            if any(parts)
            else "> ⚠️ **Dangerous**"
        )
        if protected:
            warning += (
                f"; 🔒 {protected} protected resource(s) would be touched (the `up` will fail)"
            )
        lines += [warning + ".", ""]
    if report.failed or any(c.failed for c in report.changes):
        state = "the operation failed" + (
            "; the state may be corrupt" if report.maybe_corrupt else ""
        )
        lines += [f"> ❌ **{state}.**", ""]
    return lines


def budget_overrides_section(view: StackView) -> list[str]:
    # From every resource the stack goes on declaring: an override in force is news in every
    # preview of the stack, not only in the one that adds it.
    return override_lines(view.stack, overrides(view.report.declared.values()))


def changes_section(view: StackView) -> list[str]:
    reviewed = view.reviewed
    if not reviewed:
        return []
    shown = reviewed[: view.max_rows]
    view.left_out += len(reviewed) - len(shown)
    table = [
        "| risk | op | resource | property | old → new | why |",
        "|---|---|---|---|---|---|",
        *map(_change_row, shown),
    ]
    if len(shown) < len(reviewed):
        table.append(f"| | | … {len(reviewed) - len(shown)} more not shown | | | |")
    title = f"{len(reviewed)} changed properties and resources, most severe first"
    return [*_fold(title, table, len(shown)), "", *_long_values(shown)]


def _lines(value: Any) -> list[str]:
    return _shown(value).splitlines() if value is not MISSING else []


def _long_values(rows: list[Row]) -> list[str]:
    """Values cut in the table, in full (a text's changed lines as a diff)."""
    long = [r for r in rows if r.path and max(len(_shown(r.old)), len(_shown(r.new))) > CELL]
    if not long:
        return []
    body = []
    for r in long:
        body.append(f"{code(r.change.name, table=False)} {code(r.path, table=False)}:")
        if "\n" in _shown(r.old) + _shown(r.new):
            diff = list(difflib.unified_diff(_lines(r.old), _lines(r.new), n=0, lineterm=""))[2:]
            body += [f"- {code(line, limit=200, table=False)}" for line in diff[:DIFF_LINES]]
            if len(diff) > DIFF_LINES:
                body.append(f"- … {len(diff) - DIFF_LINES} more line(s)")
        else:
            for side, value in (("old", r.old), ("new", r.new)):
                shown = "—" if value is MISSING else code(_shown(value), LONG_VALUE, table=False)
                body.append(f"- {side}: {shown}")
        body.append("")
    return ["<details>", f"<summary>{len(long)} long value(s) in full</summary>", "", *body,
            "</details>", ""]  # fmt: skip


def expected_section(view: StackView) -> list[str]:
    expected = [r for r in view.rows if r.severity == EXPECTED]
    if not expected:
        return []
    reasons: dict[str, int] = {}
    for r in expected:
        reasons[r.why] = reasons.get(r.why, 0) + 1
    summary = "; ".join(f"{text(why)}: {n}" for why, n in reasons.items())
    return [f"**Expected, not ranked:** {len(expected)} ({summary}).", ""]


def _config_key(v: PolicyViolation) -> tuple[str, str]:
    """The violation's message without its trailing config key, and the key."""
    match = CONFIG_KEY.search(v.message)
    return (v.message[: match.start()], match.group(1)) if match else (v.message, "")


def violations_section(view: StackView) -> list[str]:
    violations = view.report.violations
    if not violations:
        return []
    ordered = sorted(violations, key=lambda v: (v.enforcement != "mandatory", v.policy))
    shown = ordered[: view.max_rows]
    view.left_out += len(ordered) - len(shown)
    table = [
        "| level | severity | policy | resource | config key | message |",
        "|---|---|---|---|---|---|",
    ]
    for v in shown:
        message, key = _config_key(v)
        table.append(
            f"| {text(v.enforcement)} | {text(v.severity)} | {code(v.policy)} | "
            f"{code(v.urn.rsplit('::', 1)[-1]) if v.urn else '_(the stack)_'} | "
            f"{code(key) if key else ''} | {text(message)} |"
        )
    mandatory = sum(v.enforcement == "mandatory" for v in ordered)
    return [
        f"**Policy violations:** {len(ordered)} ({mandatory} mandatory)",
        "",
        *_fold("policy violations", table, len(shown)),
        "",
    ]


def waivers_section(view: StackView) -> list[str]:
    return view.context.waivers.get(view.stack, [])


def diagnostics_section(view: StackView) -> list[str]:
    notable = [d for d in view.report.diagnostics if d.severity.startswith(("warning", "error"))]
    if not notable:
        return []
    view.left_out += max(0, len(notable) - view.max_rows)
    lines = ["**Diagnostics:**", ""]
    lines += [f"- {text(d.severity)}: {text(d.message)}" for d in notable[: view.max_rows]]
    return [*lines, ""]


def notes_section(view: StackView) -> list[str]:
    r = view.report
    if not r.notes:
        return []
    return [f"_{text(f'Input notes ({r.source}): ' + '; '.join(r.notes))}_", ""]


# One stack's part of the comment, in order; each section returns its lines (none to skip).
SECTIONS: list[Section] = [
    headline_section,
    context_section,
    warnings_section,
    budget_overrides_section,
    changes_section,
    expected_section,
    violations_section,
    waivers_section,
    diagnostics_section,
    notes_section,
]


def stack_section(
    report: EngineReport,
    stack: str,
    max_rows: int,
    context: Context | None = None,
    rows: list[Row] | None = None,
) -> tuple[str, int]:
    """One stack's part of the comment (`rows`: its ranked changes, if already ranked); returns
    the text and how many rows were left out."""
    ranked = rank(report) if rows is None else rows
    view = StackView(stack, report, ranked, context or Context(), max_rows)
    lines = [line for section in SECTIONS for line in section(view)]
    return "\n".join(lines), view.left_out


def _describe(stack: str, row: Row) -> str:
    where = f"{code(stack, table=False)} {code(row.change.name, table=False)}"
    if not row.path:
        return f"{where} {text(row.why)}"
    key = config_key(row)
    setting = f" ({code(key, table=False)})" if key else ""
    values = f"{code(_shown(row.old), 40, table=False)} → {code(_shown(row.new), 40, table=False)}"
    return f"{where} {code(row.path, table=False)} {values}{setting}"


def opening_line(
    reports: list[tuple[str, EngineReport]], ranked: list[list[Row]] | None = None
) -> str:
    """What matters most, in one line: mandatory violations (the `up` would be refused), then a
    failed run, then the most severe changes (weakenings first)."""
    mandatory = [
        (stack, v) for stack, r in reports for v in r.violations if v.enforcement == "mandatory"
    ]
    if mandatory:
        stack, first = mandatory[0]
        more = f"; and {len(mandatory) - 1} more" if len(mandatory) > 1 else ""
        return (
            f"❌ **{len(mandatory)} mandatory policy violation(s)**: `pulumi up` would be "
            f"refused. {code(stack, table=False)} {code(first.policy, table=False)}: "
            f"{text(_config_key(first)[0], limit=160)}{more}"
        )
    failed = [stack for stack, r in reports if r.failed]
    if failed:
        stacks = ", ".join(code(s, table=False) for s in failed)
        return f"❌ **The preview of {stacks} failed**: what follows is not a complete plan."
    ranked = ranked or [rank(r) for _, r in reports]
    rows = sorted(
        (
            (stack, row)
            for (stack, _), rows_ in zip(reports, ranked, strict=True)
            for row in rows_
            if row.severity != EXPECTED
        ),
        key=lambda sr: sr[1].order,
    )
    if not rows:
        return "✅ No changes."
    top = rows[0][1]
    same = [
        r
        for _, r in rows
        if (r.severity, r.direction) == (top.severity, top.direction) and not r.forces_replacement
    ]
    noun = "weakening" if top.direction == WEAKENS else "change"
    plural = "s" if len(same) > 1 else ""
    more = f"; and {len(same) - 1} more" if len(same) > 1 else ""
    icon = ICONS.get(top.severity, "")
    return (
        f"{icon} **{len(same)} {top.severity} {noun}{plural}**: {_describe(rows[0][0], top)}{more}"
    )


def _context_line(context: Context) -> str:
    parts = []
    if context.commit:
        dirty = " with uncommitted changes" if context.dirty else ""
        parts.append(f"commit {code(context.commit[:12], table=False)}{dirty}")
    if context.base:
        parts.append(
            f"against {code(context.base, table=False)}, offline: both programs under Pulumi "
            "mocks (which changes force a replacement only `pulumi preview` can tell)"
        )
    if context.engine:
        parts.append(f"Pulumi {text(context.engine)}")
    return f"_Previewed {' · '.join(parts)}_" if parts else ""


def markdown_report(
    reports: list[tuple[str, EngineReport]],
    context: Context | None = None,
    limit: int = COMMENT_LIMIT,
) -> str:
    """The whole comment, cut (with a note saying so) to fit GitHub's limit."""
    context = context or Context()
    ranked = [rank(r) for _, r in reports]
    title = f"Plan against {code(context.base, table=False)}" if context.base else "Pulumi preview"
    head = [MARKER, f"## {title}", "", opening_line(reports, ranked), ""]
    if _context_line(context):
        head += [_context_line(context), ""]
    for max_rows in (500, 200, 100, 50, 20, 5, 0):
        sections = [
            stack_section(r, stack, max_rows, context, rows)
            for (stack, r), rows in zip(reports, ranked, strict=True)
        ]
        left_out = sum(n for _, n in sections)
        body = head + [section for section, _ in sections]
        if left_out:
            body.append(
                f"_✂️ {left_out} row(s) were left out to stay under GitHub's {limit:,}-character "
                "comment limit; the job log has the full preview._"
            )
        rendered = "\n".join(body).rstrip() + "\n"
        if len(rendered) <= limit:
            return rendered
    cut = "\n\n_✂️ Cut at GitHub's comment limit; the job log has the full preview._\n"
    return rendered[: limit - len(cut)] + cut


def _row_json(row: Row) -> dict[str, Any]:
    return {
        "urn": row.change.urn,
        "op": row.change.op,
        "path": row.path,
        "old": None if row.old is MISSING else _shown(row.old),
        "new": None if row.new is MISSING else _shown(row.new),
        "severity": row.severity,
        "why": row.why,
        "direction": row.direction,
        "floor": row.floor,
        "configKey": config_key(row),
        "forcesReplacement": row.forces_replacement,
    }


def json_report(reports: list[tuple[str, EngineReport]], context: Context | None = None) -> str:
    context = context or Context()
    stacks = []
    for stack, r in reports:
        stacks.append(
            {
                "stack": stack,
                "source": r.source,
                "format": r.format,
                "counts": r.counts(),
                "summary": r.summary,
                "result": r.result,
                "maybeCorrupt": r.maybe_corrupt,
                "providers": r.providers,
                "packs": r.packs,
                "onMerge": context.on_merge.get(stack, ""),
                "changes": [
                    {
                        "urn": c.urn,
                        "type": c.type,
                        "op": c.op,
                        "paths": c.paths,
                        "protected": c.protected,
                        "failed": c.failed,
                        "dangerous": c.dangerous,
                        "replaceKeys": c.replace_keys,
                    }
                    for c in r.changes
                ],
                "rows": [_row_json(row) for row in rank(r)],
                "violations": [
                    {
                        "policy": v.policy,
                        "pack": v.pack,
                        "enforcement": v.enforcement,
                        "severity": v.severity,
                        "urn": v.urn,
                        "message": _config_key(v)[0],
                        "configKey": _config_key(v)[1],
                    }
                    for v in r.violations
                ],
                "diagnostics": [
                    {"severity": d.severity, "message": d.message, "urn": d.urn}
                    for d in r.diagnostics
                ],
                "notes": r.notes,
            }
        )
    document = {
        "opening": opening_line(reports),
        "base": context.base,
        "commit": context.commit,
        "engine": context.engine,
        "stacks": stacks,
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _run(command: list[str], cwd: Path) -> str:
    import shutil
    import subprocess

    if shutil.which(command[0]) is None:
        return ""
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def preview_context(cwd: Path, commit: str | None, engine: str | None) -> Context:
    """The comment's context: the commit and engine as given, else as this machine says (the
    Actions checkout's $GITHUB_SHA, `pulumi version`), and what merging does to each stack
    (from the Deploy workflow of the repository around `cwd`, if any)."""
    import os

    from infractl.ops.deploy_flow import on_merge

    commit = commit or os.environ.get("GITHUB_SHA") or _run(["git", "rev-parse", "HEAD"], cwd)
    engine = engine or _run(["pulumi", "version"], cwd)
    top = _run(["git", "rev-parse", "--show-toplevel"], cwd)
    return Context(commit=commit, engine=engine, on_merge=on_merge(Path(top)) if top else {})


def read_reports(inputs: list[Path], stacks: list[str]) -> list[tuple[str, EngineReport]]:
    """Each input parsed, named by its `--stack` (else the stack its events name, else the file)."""
    if not inputs:
        raise UsageError("give at least one --input or --event-log")
    if stacks and len(stacks) != len(inputs):
        raise UsageError("give one --stack per input, in the same order, or none")
    reports = []
    for i, path in enumerate(inputs):
        report = read_engine_output(path)
        if stacks and report.stack and report.stack != stacks[i]:
            raise EngineOutputError(
                f"{path}: the output of stack {report.stack!r}, given as --stack {stacks[i]!r}"
            )
        reports.append((stacks[i] if stacks else report.stack or path.stem, report))
    return reports


def failures(reports: list[tuple[str, EngineReport]]) -> str:
    """One line naming each stack whose run failed ("" if none did)."""
    failed = [f"{stack}: {r.failed}" for stack, r in reports if r.failed]
    return "; ".join(failed)
