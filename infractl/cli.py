"""`infractl`: the project's command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from infra.config import ConfigError, parse_stack_config
from infractl.project import UsageError, find_project, resolve_stack_file
from infractl.stackfile import StackFile, read_stack_file

if TYPE_CHECKING:
    from infractl.synth.harness import SynthResult

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--config-file", help="use this stack settings file instead")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infractl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    synth = commands.add_parser(
        "synth", help="run the program offline under Pulumi mocks and write what it declares"
    )
    _stack_arguments(synth)
    synth.add_argument("--out", required=True, type=Path, help="output folder (replaced)")
    check = commands.add_parser(
        "check", help="synthesize a stack and run the policy pack over it, offline"
    )
    _stack_arguments(check)
    check.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    check.add_argument(
        "--policy-config",
        type=Path,
        help="policy pack config (default: policies/config/<stack>.json)",
    )
    check.add_argument(
        "--timeout", type=float, default=60.0, help="seconds for the pack to start and answer"
    )
    policies = commands.add_parser("policies", help="policy pack housekeeping")
    policies.add_argument(
        "action",
        choices=["catalogue", "sync-config"],
        help="catalogue: print docs/policies.md; sync-config: update each stack's policy config "
        "with the repositories the other stacks govern",
    )
    report = commands.add_parser(
        "preview-report", help="turn `pulumi preview --json` or event logs into a PR comment"
    )
    report.add_argument("--input", action="append", default=[], type=Path, help="preview JSON")
    report.add_argument("--event-log", action="append", default=[], type=Path, help="event log")
    report.add_argument("--stack", action="append", default=[], help="stack name of each input")
    report.add_argument("--format", choices=["markdown", "json"], default="markdown")
    report.add_argument("--post", action="store_true", help="update the PR's sticky comment")
    report.add_argument("--repo", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    report.add_argument("--pr", type=int, help="pull request number (with --post)")
    drift = commands.add_parser("drift", help="report drift between a stack and the cloud")
    drift.add_argument("--stack", required=True)
    drift.add_argument("--input", type=Path, help="recorded refresh-preview output to read")
    drift.add_argument("--open-issue", action="store_true", help="open/update/close a drift issue")
    drift.add_argument("--repo", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    for name, actions in (
        ("canary", ["advance", "promote", "abort"]),
        ("bluegreen", ["switch", "rollback"]),
    ):
        move = commands.add_parser(name, help=f"{name} release moves, applied with `pulumi up`")
        move.add_argument("action", choices=actions)
        move.add_argument("--stack", required=True)
        move.add_argument("--service", required=True)
        move.add_argument("--dry-run", action="store_true", help="print the change, apply nothing")
        if name == "canary":
            move.add_argument("--prometheus", help="Prometheus URL (default: $PROMETHEUS_URL)")
            move.add_argument("--window", default="5m", help="analysis window (default 5m)")
    return parser


def _synthesize(args: argparse.Namespace) -> tuple[Path, StackFile, SynthResult]:
    project = find_project(Path.cwd())
    path = resolve_stack_file(project, args.stack, args.config_file)
    stack_file = read_stack_file(path, label=args.config_file or path.name)
    config = parse_stack_config(args.config_file or path.name, stack_file.config)

    from infractl.synth.harness import run_program

    return project, stack_file, run_program(args.stack, stack_file, config)


def cmd_synth(args: argparse.Namespace) -> int:
    from infractl.summary import synth_summary
    from infractl.synth.render import render, write_tree

    _, _, result = _synthesize(args)
    files = render(result)
    write_tree(args.out, files)
    print(synth_summary(args.stack, result.resources, args.out, sorted(files)))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from infractl.policy.analyzer import PackError
    from infractl.policy.check import run_check
    from infractl.policy.report import FORMATS

    project, stack_file, result = _synthesize(args)
    policy_config = args.policy_config
    if policy_config is None:
        default = project / "policies" / "config" / f"{args.stack}.json"
        policy_config = default if default.is_file() else None
    try:
        outcome = run_check(
            result,
            project / "policies",
            policy_config,
            stack_file.config,
            stack_file.secret_keys,
            timeout=args.timeout,
        )
    except PackError as exc:
        print(f"infractl: policy pack: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(FORMATS[args.format](outcome))
    return EXIT_FAILED if outcome.mandatory else EXIT_OK


def cmd_policies(args: argparse.Namespace) -> int:
    from infractl.policy.catalogue import catalogue_markdown, sync_policy_config

    project = find_project(Path.cwd())
    if args.action == "catalogue":
        print(catalogue_markdown(project), end="")
    else:
        for path in sync_policy_config(project):
            print(f"updated {path.relative_to(project)}")
    return EXIT_OK


def cmd_preview_report(args: argparse.Namespace) -> int:
    from infractl.ops.engine_output import parse_engine_output
    from infractl.ops.github_api import GitHubTarget, upsert_sticky_comment
    from infractl.ops.preview_report import MARKER, json_report, markdown_report

    inputs = [*args.input, *args.event_log]
    if not inputs:
        raise UsageError("give at least one --input or --event-log")
    if args.stack and len(args.stack) != len(inputs):
        raise UsageError("give one --stack per input, in the same order, or none")
    reports = []
    for i, path in enumerate(inputs):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        report = parse_engine_output(str(path), text)
        reports.append((args.stack[i] if args.stack else report.stack or path.stem, report))
    body = json_report(reports) if args.format == "json" else markdown_report(reports)
    if args.post:
        if args.pr is None:
            raise UsageError("--post needs --pr")
        outcome = upsert_sticky_comment(GitHubTarget.from_env(args.repo), args.pr, body, MARKER)
        print(f"preview comment {outcome} on PR #{args.pr}", file=sys.stderr)
    print(body, end="")
    return EXIT_OK


def cmd_drift(args: argparse.Namespace) -> int:
    from infractl.ops.drift import drift_markdown, run_refresh_preview
    from infractl.ops.engine_output import parse_engine_output
    from infractl.ops.github_api import GitHubTarget, sync_drift_issue

    if args.input:
        try:
            text = args.input.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {args.input}: {exc.strerror}") from None
        report = parse_engine_output(str(args.input), text)
    else:
        report = run_refresh_preview(find_project(Path.cwd()), args.stack)
    body = drift_markdown(args.stack, report)
    print(body, end="")
    drifted = bool(report.changes)
    if args.open_issue:
        target = GitHubTarget.from_env(args.repo)
        outcome = sync_drift_issue(target, args.stack, drifted, body)
        print(f"drift issue: {outcome}", file=sys.stderr)
    return EXIT_FAILED if drifted else EXIT_OK


def cmd_move(args: argparse.Namespace) -> int:
    import os

    from infractl.ops.analysis import analyse_canary
    from infractl.ops.promotion import apply_move, bluegreen_move, canary_move, validate_move

    project = find_project(Path.cwd())
    path = resolve_stack_file(project, args.stack, None)
    stack_file = read_stack_file(path)
    config = parse_stack_config(path.name, stack_file.config)
    if args.command == "canary":
        changes = canary_move(config, args.service, args.action)
        needs_analysis = args.action in ("advance", "promote")
        strategy = config.services[args.service].strategy
        if needs_analysis and getattr(strategy, "weight", 0) > 0:
            url = args.prometheus or os.environ.get("PROMETHEUS_URL")
            if not url or config.monitoring is None:
                raise UsageError("canary analysis needs --prometheus URL (or $PROMETHEUS_URL)")
            from infra.monitoring.target import monitored_services

            svc = next(s for s in monitored_services(config) if s.name == args.service)
            verdict = analyse_canary(url, svc, config.monitoring.thresholds, args.window)
            print(verdict.render())
            if not verdict.healthy:
                print(f"refused: the canary is not healthy; consider `infractl canary abort "
                      f"--stack {args.stack} --service {args.service}`")  # fmt: skip
                return EXIT_FAILED
    else:
        changes = bluegreen_move(config, args.service)
    validate_move(path.name, stack_file, changes)
    for change in changes:
        print(f"{change.key}: {change.old} -> {change.new}")
        print(f"  {change.command(args.stack)}")
    if args.dry_run:
        print("dry run: nothing applied")
        return EXIT_OK
    apply_move(project, args.stack, changes)
    return EXIT_OK


COMMANDS = {
    "synth": cmd_synth,
    "check": cmd_check,
    "policies": cmd_policies,
    "preview-report": cmd_preview_report,
    "drift": cmd_drift,
    "canary": cmd_move,
    "bluegreen": cmd_move,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"infractl: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if not isinstance(exc, _operational_errors()):
            raise
        print(f"infractl: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _operational_errors() -> tuple[type[Exception], ...]:
    """Errors of the operations commands that mean "cannot do this here", not a bug."""
    from infractl.ops.analysis import PrometheusError
    from infractl.ops.drift import CliMissing
    from infractl.ops.engine_output import EngineOutputError
    from infractl.ops.github_api import GitHubSetupError
    from infractl.ops.promotion import MoveRefused

    return (PrometheusError, CliMissing, EngineOutputError, GitHubSetupError, MoveRefused)


if __name__ == "__main__":
    sys.exit(main())
