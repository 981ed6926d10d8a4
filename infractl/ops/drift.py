"""Drift: what a refresh-preview says differs between the stack's state and the real world."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from infractl.errors import InfractlError
from infractl.ops.engine_output import EngineReport, parse_engine_output, read_engine_output
from infractl.ops.preview_report import stack_section


class CliMissing(InfractlError):
    """A command this one needs (the pulumi CLI) is not installed."""


def drift_of(stack: str, recorded: Path | None) -> EngineReport:
    """What the recorded refresh-preview output says, or (none given) what a fresh one says."""
    if recorded is not None:
        return read_engine_output(recorded)
    from infractl.project import find_project

    return run_refresh_preview(find_project(Path.cwd()), stack)


def run_refresh_preview(project: Path, stack: str) -> EngineReport:
    """`pulumi preview --refresh --expect-no-changes`: reads the cloud, writes no state.

    (`pulumi refresh --expect-no-changes` would write the refreshed state before failing.)
    """
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise CliMissing("the pulumi CLI is not on PATH; pass --input with a recorded output")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        proc = subprocess.run(
            [pulumi, "preview", "--stack", stack, "--refresh", "--expect-no-changes", "--json",
             "--event-log", str(log), "--non-interactive"],
            cwd=project, capture_output=True, text=True, check=False,
        )  # fmt: skip
        # Exit codes: 0 no changes; non-zero with changes (7 in recent CLIs, 255 in older ones)
        # or on error; the event log tells which.
        text = log.read_text() if log.exists() else proc.stdout
        if not text.strip():
            raise CliMissing(
                f"pulumi preview failed (exit {proc.returncode}): {proc.stderr[-2000:]}"
            )
        return parse_engine_output(f"pulumi preview --refresh ({stack})", text)


def drift_markdown(stack: str, report: EngineReport) -> str:
    section, _ = stack_section(report, stack, max_rows=200)
    if not report.changes:
        return f"No drift in stack `{stack}`.\n"
    return (
        f"The real resources of stack `{stack}` no longer match its state (or its code):\n\n"
        f"{section}\n"
        "Respond with the runbook in `docs/runbooks/drift.md`: either `pulumi up` to put the "
        "code's values back, or change the code to accept the new values.\n"
    )
