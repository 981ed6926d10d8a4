"""A stack's waivers as infractl reads them (through infra/config/waivers.py, against the pack's
own list of waivable policies) and where each stands on a day, given what a check reported.

The pack marks a violation it waived by opening its message with `Waived by '<name>' ...`
(policies/tbcoin_policies/waivers.py, WAIVED); `waived_by` reads that mark back, for the check
report, the PR preview and `infractl waivers` alike. A waiver is *stale* when it is live and
waived nothing in the check: the pack reports it so under the engine; here the same follows
from the marks, so a check answered partly from memory (`check --watch`) says the same.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from infra.config.waivers import (
    EXPIRING_DAYS,
    TODAY_VARIABLE,
    Waiver,
    WaiverFile,
    load_waivers,
    today,
    waivers_path,
)
from infractl.markdown import code, text
from infractl.pack import waivable
from infractl.project import PROJECT

# At the start of the message or of one of its lines (the engine keeps the policy's description
# on the first line).
WAIVED = re.compile(
    r"^Waived by '(?P<name>[a-z0-9-]+)' \(expires [0-9-]+, approved by [^)]+\): ", re.MULTILINE
)

__all__ = ["TODAY_VARIABLE", "WaiverFile", "load", "today"]


def waived_by(message: str) -> str:
    """The waiver the pack says waived this violation, or ""."""
    match = WAIVED.search(message)
    return match.group("name") if match else ""


def load(project: Path, stack: str) -> WaiverFile:
    """The stack's waivers file, checked against the pack's policies (ConfigError, exit 2)."""
    # The pack is imported only when there is a file to check against it.
    known = waivable(project / "policies") if waivers_path(project, stack).exists() else {}
    return load_waivers(project, stack, project_name=PROJECT, policies=known)


def fingerprint(project: Path, stack: str) -> bytes:
    """What a check's answers depend on besides its requests: the file's bytes and the day."""
    path = waivers_path(project, stack)
    try:
        content = path.read_bytes()
    except OSError:
        content = b""
    return content + b"\0" + today().isoformat().encode()


LIVE, STALE, EXPIRED = "in force", "stale", "expired"


@dataclass(frozen=True)
class Standing:
    """Where one waiver stands on a day."""

    name: str
    waiver: Waiver
    state: str  # LIVE, STALE or EXPIRED
    days_left: int  # until it expires (0 or less: expired)
    uses: int | None  # violations it waived in the check (None: no check was run)

    @property
    def expiring(self) -> bool:
        return self.state != EXPIRED and self.days_left <= EXPIRING_DAYS

    @property
    def failing(self) -> bool:
        """For a scheduled job: a waiver to renew or remove."""
        return self.state in (EXPIRED, STALE)

    def words(self) -> str:
        """Its state in a few words, for a terminal or a table cell."""
        if self.state == EXPIRED:
            return f"expired on {self.waiver.expires}: its violations count again"
        if self.state == STALE:
            said = "stale: waives nothing"
        elif self.uses is None:
            said = LIVE
        else:
            said = f"{LIVE}, waives {self.uses} violation{'' if self.uses == 1 else 's'}"
        soon = " (expiring soon)" if self.expiring else ""
        return f"{said}; expires {self.waiver.expires}, in {self.days_left} days{soon}"


def standings(file: WaiverFile, waived: Iterable[str] | None, on: datetime.date) -> list[Standing]:
    """Each waiver of `file` on day `on`. `waived`: the waiver named by each violation of a check
    of the stack; None when no check was run (then nothing is known to be stale)."""
    counts: dict[str, int] = {}
    for name in waived or ():
        if name:
            counts[name] = counts.get(name, 0) + 1
    found = []
    for name, w in sorted(file.waivers.items()):
        uses = None if waived is None else counts.get(name, 0)
        # `granted` is never after today (the file is refused otherwise).
        state = EXPIRED if on >= w.end() else STALE if uses == 0 else LIVE
        found.append(Standing(name, w, state, (w.end() - on).days, uses))
    return found


def markdown_table(found: list[Standing]) -> list[str]:
    """One row per waiver, for a PR comment or an issue (user text escaped)."""
    rows = [
        "| waiver | policy | selects | state | approved by | reason |",
        "|---|---|---|---|---|---|",
    ]
    for s in found:
        icon = "❌ " if s.failing else "⏳ " if s.expiring else ""
        w = s.waiver
        reason = text(w.reason, limit=300) + (f" ([ticket]({w.ticket}))" if w.ticket else "")
        rows.append(
            f"| {code(s.name)} | {code(w.policy)} | {code(w.selector, limit=120)} | "
            f"{icon}{text(s.words())} | {text(w.approved_by)} | {reason} |"
        )
    return rows


def text_lines(found: list[Standing]) -> list[str]:
    lines = []
    for s in found:
        w = s.waiver
        mark = "!" if s.failing else "~" if s.expiring else " "
        lines += [
            f"{mark} {s.name}: {w.policy} on {w.selector}",
            f"    {s.words()}",
            f"    approved by {w.approved_by} on {w.granted}: {w.reason}"
            + (f" ({w.ticket})" if w.ticket else ""),
        ]
    return lines
