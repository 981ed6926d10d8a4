"""`infractl`: the project's command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from infractl.errors import UsageError

# Each command imports what it needs when it runs: `--help`, preview reports and recorded drift
# never pay for the provider SDKs or the config model.
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
    source = check.add_mutually_exclusive_group()
    source.add_argument(
        "--out", type=Path, help="also write the synth output here, as `synth --out` does"
    )
    source.add_argument(
        "--from",
        dest="from_dir",
        type=Path,
        metavar="DIR",
        help="check an existing synth output (DIR/resources.json) instead of running the program",
    )
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
    rollout = commands.add_parser(
        "rollout", help="watch or steer a service's Argo Rollout in the stack's cluster"
    )
    rollout.add_argument("action", choices=["status", "promote", "abort", "retry"])
    _stack_arguments(rollout)
    rollout.add_argument("--service", required=True)
    rollout.add_argument(
        "--full", action="store_true", help="promote: skip the remaining steps and analysis"
    )
    return parser


def cmd_synth(args: argparse.Namespace) -> int:
    from infractl.synth.outdir import check_out

    check_out(args.out, cwd=Path.cwd())  # refuse before spending time on a synth
    from infractl.project import open_stack
    from infractl.synth.harness import synthesize
    from infractl.synth.render import write_output

    print(write_output(synthesize(open_stack(args.stack, args.config_file)), args.out))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from infractl.policy.check import check_output, check_stack
    from infractl.policy.report import FORMATS
    from infractl.project import open_stack

    stack = open_stack(args.stack, args.config_file)
    if args.from_dir is not None:
        outcome = check_output(stack, args.from_dir, args.policy_config, args.timeout)
    else:
        summary, outcome = check_stack(stack, args.policy_config, args.timeout, args.out)
        if summary is not None:
            # The report may be JSON on stdout; the synth summary must not corrupt it.
            print(summary, file=sys.stdout if args.format == "text" else sys.stderr)
    print(FORMATS[args.format](outcome))
    return EXIT_FAILED if outcome.mandatory else EXIT_OK


def cmd_policies(args: argparse.Namespace) -> int:
    from infractl.policy.catalogue import catalogue_markdown, sync_policy_config
    from infractl.project import find_project

    project = find_project(Path.cwd())
    if args.action == "catalogue":
        print(catalogue_markdown(project), end="")
    else:
        for path in sync_policy_config(project):
            print(f"updated {path.relative_to(project)}")
    return EXIT_OK


def cmd_preview_report(args: argparse.Namespace) -> int:
    from infractl.ops.preview_report import MARKER, json_report, markdown_report, read_reports

    if args.post and args.pr is None:
        raise UsageError("--post needs --pr")
    reports = read_reports([*args.input, *args.event_log], args.stack)
    body = json_report(reports) if args.format == "json" else markdown_report(reports)
    if args.post:
        from infractl.ops.github_api import GitHubTarget, upsert_sticky_comment

        outcome = upsert_sticky_comment(GitHubTarget.from_env(args.repo), args.pr, body, MARKER)
        print(f"preview comment {outcome} on PR #{args.pr}", file=sys.stderr)
    print(body, end="")
    return EXIT_OK


def cmd_drift(args: argparse.Namespace) -> int:
    from infractl.ops.drift import drift_markdown, drift_of

    report = drift_of(args.stack, args.input)
    body = drift_markdown(args.stack, report)
    print(body, end="")
    drifted = bool(report.changes)
    if args.open_issue:
        from infractl.ops.github_api import GitHubTarget, sync_drift_issue

        outcome = sync_drift_issue(GitHubTarget.from_env(args.repo), args.stack, drifted, body)
        print(f"drift issue: {outcome}", file=sys.stderr)
    return EXIT_FAILED if drifted else EXIT_OK


def cmd_rollout(args: argparse.Namespace) -> int:
    from infractl.ops import rollouts
    from infractl.project import open_stack

    config = open_stack(args.stack, args.config_file).load()
    if args.full and args.action != "promote":
        raise UsageError("--full goes with promote only")
    target = rollouts.target(config, args.service)
    api = rollouts.Rollouts(target.context)
    if args.action == "promote":
        result = rollouts.promote(api, target, args.full)
    elif args.action == "abort":
        result = rollouts.abort(api, target)
    elif args.action == "retry":
        result = rollouts.retry(api, target)
    else:
        result = api.get(target)
    text, trouble = rollouts.summary(result)
    print(text)
    return EXIT_FAILED if trouble and args.action == "status" else EXIT_OK


COMMANDS = {
    "synth": cmd_synth,
    "check": cmd_check,
    "policies": cmd_policies,
    "preview-report": cmd_preview_report,
    "drift": cmd_drift,
    "rollout": cmd_rollout,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from infractl.errors import InfractlError
    from infractl.signals import Stopped, stop_signals_raise

    try:
        with stop_signals_raise():
            return COMMANDS[args.command](args)
    except InfractlError as exc:
        print(f"infractl: {exc}", file=sys.stderr)
        return exc.exit_code
    except Stopped as exc:
        import logging

        # A stop during synth also ends the mock engine's pending tasks; asyncio would report
        # each one at exit, with a traceback.
        logging.getLogger("asyncio").disabled = True
        print(f"infractl: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        # A ConfigError can only come from a command that loaded the config model, so its module
        # is loaded then; commands that never read config do not pay for importing it here.
        errors = sys.modules.get("infra.config.errors")
        if errors is None or not isinstance(exc, errors.ConfigError):
            raise
        print(exc.render(), file=sys.stderr)
        return EXIT_USAGE


def run() -> None:
    """The `infractl` command. After a synth, the interpreter's own teardown (hundreds of SDK
    modules, the mock runtime's threads) takes ~0.4 s and does nothing a finished command needs:
    flush what was printed and leave without it."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (`| head`); nothing left to tell it
        pass
    os._exit(code)


if __name__ == "__main__":
    run()
