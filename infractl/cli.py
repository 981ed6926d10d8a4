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


COMMANDS = {"synth": cmd_synth, "check": cmd_check, "policies": cmd_policies}


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


if __name__ == "__main__":
    sys.exit(main())
