"""Markdown (for a PR comment) and JSON summaries of what `pulumi preview` would do."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from infractl.errors import UsageError
from infractl.markdown import code, text
from infractl.ops.engine_output import Change, EngineOutputError, EngineReport, read_engine_output

MARKER = "<!-- tbcoin-platform:preview-report -->"
# GitHub refuses issue comments longer than this many characters.
COMMENT_LIMIT = 65_536
FOLD_AFTER = 10
ORDER = ["delete", "replace", "update", "create", "import", "failed"]


def _headline(report: EngineReport) -> str:
    counts = report.counts()
    parts = [f"{n} to {text(op)}" for op, n in sorted(counts.items(), key=lambda kv: _rank(kv[0]))]
    if report.failed:
        # Never "no changes": the run stopped before it reached everything.
        so_far = f" (so far: {', '.join(parts)})" if parts else ""
        return f"❌ failed, not a complete plan{so_far}"
    return ", ".join(parts) or "no changes"


def _rank(op: str) -> int:
    return ORDER.index(op) if op in ORDER else len(ORDER)


def _change_rows(changes: list[Change], max_rows: int) -> tuple[list[str], int]:
    ordered = sorted(changes, key=lambda c: (_rank(c.op), c.urn))
    rows = []
    for c in ordered[:max_rows]:
        flags = (
            ("⚠️" if c.dangerous else "")
            + ("🔒" if c.protected else "")
            + ("❌" if c.failed else "")
        )
        paths = ", ".join(code(p) for p in c.paths[:8])
        if len(c.paths) > 8:
            paths += f" and {len(c.paths) - 8} more"
        rows.append(f"| {flags} | {text(c.op)} | {code(c.name)} | {code(c.type)} | {paths} |")
    return rows, max(0, len(ordered) - max_rows)


def _fold(title: str, body: list[str], rows: int) -> list[str]:
    if rows <= FOLD_AFTER:
        return body
    return ["<details>", f"<summary>{title}</summary>", "", *body, "", "</details>"]


def stack_section(report: EngineReport, stack: str, max_rows: int) -> tuple[str, int]:
    """One stack's part of the comment; returns the text and how many rows were left out."""
    lines = [f"### {code(stack, table=False)}: {_headline(report)}", ""]
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
    failed = [c for c in report.changes if c.failed]
    if failed or report.result == "failed" or report.maybe_corrupt:
        state = "the operation failed" + (
            "; the state may be corrupt" if report.maybe_corrupt else ""
        )
        lines += [f"> ❌ **{state}.**", ""]
    left_out = 0
    if report.changes:
        rows, left_out = _change_rows(report.changes, max_rows)
        table = ["| | op | resource | type | changed properties |", "|---|---|---|---|---|", *rows]
        if left_out:
            table.append(f"| | | … {left_out} more not shown | | |")
        lines += [*_fold(f"{len(report.changes)} resource changes", table, len(rows)), ""]
    if report.violations:
        ordered = sorted(report.violations, key=lambda v: (v.enforcement != "mandatory", v.policy))
        table = ["| level | severity | policy | resource | message |", "|---|---|---|---|---|"]
        shown = ordered[:max_rows]
        table += [
            f"| {text(v.enforcement)} | {text(v.severity)} | {code(v.policy)} | "
            f"{code(v.urn.rsplit('::', 1)[-1])} | {text(v.message)} |"
            for v in shown
        ]
        left_out += len(ordered) - len(shown)
        mandatory = sum(v.enforcement == "mandatory" for v in ordered)
        lines += [f"**Policy violations:** {len(ordered)} ({mandatory} mandatory)", ""]
        lines += [*_fold("policy violations", table, len(shown)), ""]
    notable = [d for d in report.diagnostics if d.severity.startswith(("warning", "error"))]
    if notable:
        lines += ["**Diagnostics:**", ""]
        lines += [f"- {text(d.severity)}: {text(d.message)}" for d in notable[:max_rows]]
        left_out += max(0, len(notable) - max_rows)
        lines.append("")
    if report.notes:
        notes = text(f"Input notes ({report.source}): " + "; ".join(report.notes))
        lines += [f"_{notes}_", ""]
    return "\n".join(lines), left_out


def markdown_report(reports: list[tuple[str, EngineReport]], limit: int = COMMENT_LIMIT) -> str:
    """The whole comment, cut (with a note saying so) to fit GitHub's limit."""
    for max_rows in (500, 200, 100, 50, 20, 5, 0):
        sections = [stack_section(r, stack, max_rows) for stack, r in reports]
        left_out = sum(n for _, n in sections)
        body = [MARKER, "## Pulumi preview", ""] + [text for text, _ in sections]
        if left_out:
            body.append(
                f"_✂️ {left_out} row(s) were left out to stay under GitHub's {limit:,}-character "
                "comment limit; the job log has the full preview._"
            )
        text = "\n".join(body).rstrip() + "\n"
        if len(text) <= limit:
            return text
    cut = "\n\n_✂️ Cut at GitHub's comment limit; the job log has the full preview._\n"
    return text[: limit - len(cut)] + cut


def json_report(reports: list[tuple[str, EngineReport]]) -> str:
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
                "changes": [
                    {
                        "urn": c.urn,
                        "type": c.type,
                        "op": c.op,
                        "paths": c.paths,
                        "protected": c.protected,
                        "failed": c.failed,
                        "dangerous": c.dangerous,
                    }
                    for c in r.changes
                ],
                "violations": [asdict(v) for v in r.violations],
                "diagnostics": [asdict(d) for d in r.diagnostics],
                "notes": r.notes,
            }
        )
    return json.dumps({"stacks": stacks}, indent=2, sort_keys=True) + "\n"


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
