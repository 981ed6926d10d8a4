"""`infractl waivers`: each stack's waivers and where they stand today, for a person or for a
scheduled job (exit 1 when one has expired or waives nothing). Whether a waiver still waives
anything is what the offline check says (`check=True`); without it, none is known stale."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infractl.markdown import code, text
from infractl.project import open_stack
from infractl.stackfile import known_stacks
from infractl.waivers import Standing, load, markdown_table, standings, text_lines, today


@dataclass(frozen=True)
class Survey:
    stack: str
    source: str  # the waivers file
    on: datetime.date
    standings: list[Standing]
    checked: bool


def survey(project: Path, stacks: list[str], *, check: bool, timeout: float) -> list[Survey]:
    """Every waivers file is read (and refused, exit 2) before any check runs."""
    files = [load(project, stack) for stack in stacks or known_stacks(project)]
    on = today()
    found = []
    for file in files:
        waived = None
        if check and file.waivers:
            from infractl.policy.check import check_stack

            _, result = check_stack(open_stack(file.stack, None), timeout=timeout)
            waived = [v.waiver for v in result.violations]
        found.append(Survey(file.stack, file.source, on, standings(file, waived, on), check))
    return found


def _heading(s: Survey) -> str:
    count = f"{len(s.standings)} waiver{'' if len(s.standings) == 1 else 's'}"
    return f"stack {s.stack} ({s.source}) on {s.on}: {count}"


def text_report(surveys: list[Survey]) -> str:
    lines = []
    for s in surveys:
        lines.append(_heading(s) + ("" if s.checked else " (not checked: none known stale)"))
        lines += [f"  {line}" for line in text_lines(s.standings)]
    failing = sum(w.failing for s in surveys for w in s.standings)
    lines.append(
        f"{failing} to renew or remove (expired or stale)" if failing else "all waivers in order"
    )
    return "\n".join(lines) + "\n"


def markdown_report(surveys: list[Survey]) -> str:
    lines = ["## Policy waivers", ""]
    for s in surveys:
        lines += [f"### {code(s.stack, table=False)}: {text(_heading(s))}", ""]
        if s.standings:
            lines += [*markdown_table(s.standings), ""]
    return "\n".join(lines)


def json_report(surveys: list[Survey]) -> str:
    document = [
        {
            "stack": s.stack,
            "file": s.source,
            "on": s.on.isoformat(),
            "checked": s.checked,
            "waivers": [
                {
                    "name": w.name,
                    "state": w.state,
                    "daysLeft": w.days_left,
                    "expiring": w.expiring,
                    "uses": w.uses,
                    "waiver": w.waiver.model_dump(by_alias=True, exclude_none=True),
                }
                for w in s.standings
            ],
        }
        for s in surveys
    ]
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


FORMATS: dict[str, Callable[[list[Survey]], str]] = {
    "text": text_report,
    "markdown": markdown_report,
    "json": json_report,
}
