"""The PR preview's waivers part: per stack, what the change does to its waivers file (adds,
changes or removes a waiver), which waivers this preview used (the pack marked the violations
they waived), which have lapsed (expired: their violations count again) or waive nothing, and
which expire within EXPIRING_DAYS."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from pathlib import Path

from infra.config.errors import ConfigError
from infractl.markdown import code, text
from infractl.ops.engine_output import EngineReport
from infractl.waivers import WaiverFile, load, standings, waived_by


def _change(name: str, base: WaiverFile | None, head: WaiverFile) -> str:
    if base is None:
        return ""
    before, after = base.waivers.get(name), head.waivers.get(name)
    if before is None:
        return "added"
    if after is None:
        return "removed"
    return "changed" if before != after else ""


def waivers_section(
    stack: str,
    report: EngineReport,
    head: WaiverFile,
    base: WaiverFile | None,
    on: datetime.date,
) -> list[str]:
    """The lines of one stack's waivers part; none when neither side has a waiver."""
    names = sorted({*head.waivers, *(base.waivers if base else {})})
    if not names:
        return []
    now = {
        s.name: s for s in standings(head, [waived_by(v.message) for v in report.violations], on)
    }
    before = {s.name: s for s in standings(base, None, on)} if base is not None else {}
    rows = [
        "| waiver | this change | policy | selects | in this preview | approved by |",
        "|---|---|---|---|---|---|",
    ]
    flagged = 0
    for name in names:
        change = _change(name, base, head)
        if name in now:
            standing = now[name]
            state = standing.words()
        else:  # removed by the change: its violations count again
            standing = before[name]
            state = "lets lapse: removed, its violations count again"
        icon = "❌ " if standing.failing else "⏳ " if standing.expiring else ""
        flagged += bool(icon)
        w = standing.waiver
        rows.append(
            f"| {code(name)} | {text(change or '—')} | {code(w.policy)} | "
            f"{code(w.selector, limit=120)} | {icon}{text(state)} | {text(w.approved_by)} |"
        )
    where = code(head.source, table=False)
    note = f", {flagged} to look at (❌ expired or stale, ⏳ expiring within 14 days)"
    return [
        f"**Policy waivers** ({where}): {len(names)}{note if flagged else ''}",
        "",
        *rows,
        "",
    ]


def preview_waivers(
    reports: Iterable[tuple[str, EngineReport]],
    project: Path,
    base_project: Path | None,
    on: datetime.date,
) -> str:
    """The waivers part of the preview comment for every stack previewed, or "". `base_project`:
    a checkout of the branch the change goes into (none: nothing is called added)."""
    lines = []
    for stack, report in reports:
        base, unread = None, ""
        if base_project is not None:
            try:
                base = load(base_project, stack)
            except ConfigError as exc:  # the base's problem, not this change's
                unread = f"_The base branch's waivers file could not be read ({text(exc)})._"
        section = waivers_section(stack, report, load(project, stack), base, on)
        if section:
            title = f"#### {code(stack, table=False)}: policy waivers"
            lines += [title, "", *section, *([unread, ""] if unread else [])]
    return "\n".join(lines)
