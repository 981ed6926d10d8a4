"""`make e2e`: the scenarios of e2e/scenarios.py through the real Pulumi engine on real (loopback)
control planes: per stack, the provider registered and never downloaded, the pack stopping what it
must, preview and up on an empty cluster, every object compared with the offline synth, no changes
after, drift, destroy; then the faults, each on a control plane and stack of its own.
`--list` prints every step with what it does and checks. Writes out/e2e/report.json; exit 1 when a
check failed, 2 when the harness could not run a step.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from e2e import engine, receiver, recorded, stacks, tools
from e2e.errors import HarnessError
from e2e.report import REPORT, ROLLOUT_STAGES, StackReport
from e2e.scenario import Runner, Scenario
from e2e.scenarios import FAULTS, SCENARIOS

ROOT = tools.ROOT
# The only place a run writes under tests/, and only with --record.
RECORDED = recorded.TESTS / "engine_outputs" / "recorded"
RECORD = ("preview", "refresh-preview-only", "drift-preview", "change-preview")
RECORDED_ROLLOUTS = RECORDED / "rollouts"
STACKS = tuple(s.name for s in SCENARIOS if not s.isolated)


def listing(scenarios: tuple[Scenario, ...] = SCENARIOS) -> str:
    """Every scenario's steps in order, with what each does, checks and needs."""
    wrap = textwrap.TextWrapper(
        width=100, subsequent_indent=" " * 14, break_on_hyphens=False, break_long_words=False
    )
    out: list[str] = []
    for scenario in scenarios:
        out.append(f"{scenario.name} (stack {scenario.stack}; {scenario.about}):")
        for number, step in enumerate(scenario.steps, 1):
            out.append(f"  {number:2d}. {step.name}")
            out.append(wrap.fill(f"      does:   {step.does}"))
            out.append(wrap.fill(f"      checks: {step.checks}"))
            if step.needs:
                out.append(f"      needs:  {', '.join(step.needs)}")
        out.append("")
    return "\n".join(out).rstrip()


def _record(path: Path, folder: Path) -> None:
    """Copy a run's output for `make test`, without the checkout's absolute path (the pack is
    named by it): the repository must not refer to a path outside itself."""
    (folder / path.name).write_text(path.read_text().replace(str(ROOT), "<repository>"))


def record(reports: list[StackReport]) -> None:
    """--record after a clean run: the event logs and Rollout stages `make test` reads."""
    RECORDED.mkdir(parents=True, exist_ok=True)
    for report in reports:
        if report.scenario in STACKS:
            for name in RECORD:
                if name in report.steps:  # change-preview: only the stacks changes.EDITS edits
                    _record(report.event_log(name), RECORDED)
    if ROLLOUT_STAGES.is_dir():
        RECORDED_ROLLOUTS.mkdir(exist_ok=True)
        for path in ROLLOUT_STAGES.glob("*.json"):
            _record(path, RECORDED_ROLLOUTS)
    (RECORDED / "versions.json").write_text(json.dumps(engine.versions(), indent=2) + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m e2e.run", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--list", action="store_true", help="print every step and exit")
    parser.add_argument(
        "--stack", action="append", choices=STACKS, help="this stack's scenario (default: both)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, state)")
    faults = parser.add_mutually_exclusive_group()
    faults.add_argument("--skip-faults", action="store_true", help="leave out the faults")
    faults.add_argument("--faults-only", action="store_true", help="only the faults")
    faults.add_argument(
        "--fault",
        action="append",
        choices=FAULTS.names(),
        help="only this fault (repeatable); with --stack, after that stack's scenario",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help=f"after a clean run, copy the {', '.join(RECORD)} event logs and the Rollout "
        f"stages to {RECORDED.relative_to(ROOT)}/ (the only writer of tests/)",
    )
    return parser


def chosen(args: argparse.Namespace) -> list[tuple[Scenario, tuple[str, ...]]]:
    """The scenarios the options ask for, each with the steps to run (empty: all)."""
    only_faults = args.faults_only or (args.fault and not args.stack)
    stacks = [] if only_faults else args.stack or list(STACKS)
    picked: list[tuple[Scenario, tuple[str, ...]]] = [
        (scenario, ()) for scenario in SCENARIOS if scenario.name in stacks
    ]
    if not args.skip_faults:
        picked.append((FAULTS, tuple(args.fault or ())))
    return picked


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list:
        print(listing())
        return 0
    # Ctrl-C and SIGTERM unwind through every `finally`, so each process is stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # The stacks' Slack receiver is this run's webhook receiver: the release notifications the
    # controller sends during the canary arrive there (e2e/receiver.py).
    os.environ.update(stacks.SECRET_ENV | {receiver.URL_ENV: receiver.releases().url})
    folder = Path(tempfile.mkdtemp(prefix="tbcoin-e2e-"))
    started = time.monotonic()
    tests_before = recorded.snapshot()

    def say(message: str) -> None:
        print(f"e2e: [{time.monotonic() - started:6.0f} s] {message}", file=sys.stderr, flush=True)

    runner = Runner(folder, say)
    try:
        built = tools.ensure()
        for scenario, only in chosen(args):
            runner.run(scenario, only)
    except HarnessError as exc:
        print(f"e2e: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("e2e: interrupted; every process stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"e2e: run folder kept: {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    reports = runner.reports
    failed = [f"{r.scenario}: {f}" for r in reports for f in r.failures]
    harness = [f"{r.scenario}: {e}" for r in reports for e in r.harness_errors]
    passed = sum(r.passed for r in reports)
    # Only --record writes under tests/; this run checks it did not.
    wrote = recorded.changes(tests_before)
    if wrote:
        failed.append(f"wrote into tests/ without --record: {', '.join(wrote)}")
        print(f"e2e: FAIL {failed[-1]}", file=sys.stderr)
    else:
        passed += 1
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(
        json.dumps(
            {
                "versions": engine.versions(),
                "built": {k: round(v) for k, v in built.items()},
                "scenarios": {r.scenario: r.as_json() for r in reports},
                "could-not-run": harness,
                "written-under-tests": wrote,
                "seconds": round(time.monotonic() - started),
            },
            indent=2,
        )
        + "\n"
    )
    if args.record and not failed and not harness:
        record(reports)
    print(f"e2e: report: {os.path.relpath(REPORT, ROOT)}", file=sys.stderr)
    for line in harness:
        print(f"e2e: could not run {line}", file=sys.stderr)
    # The closing line CI reads.
    print(f"e2e: {passed} passed, {len(failed)} failed", flush=True)
    return 2 if harness else 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
