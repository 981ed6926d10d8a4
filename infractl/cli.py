"""`infractl`: the project's command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from infra.config import ConfigError, parse_stack_config
from infractl.project import UsageError, find_project, resolve_stack_file
from infractl.stackfile import read_stack_file

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infractl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    synth = commands.add_parser(
        "synth", help="run the program offline under Pulumi mocks and write what it declares"
    )
    synth.add_argument("--stack", required=True, help="stack name (reads Pulumi.<stack>.yaml)")
    synth.add_argument("--config-file", help="use this stack settings file instead")
    synth.add_argument("--out", required=True, type=Path, help="output folder (replaced)")
    return parser


def cmd_synth(args: argparse.Namespace) -> int:
    project = find_project(Path.cwd())
    path = resolve_stack_file(project, args.stack, args.config_file)
    stack_file = read_stack_file(path, label=args.config_file or path.name)
    config = parse_stack_config(args.config_file or path.name, stack_file.config)

    from infractl.summary import synth_summary
    from infractl.synth.harness import run_program
    from infractl.synth.render import render, write_tree

    result = run_program(args.stack, stack_file, config)
    files = render(result)
    write_tree(args.out, files)
    print(synth_summary(args.stack, result.resources, args.out, sorted(files)))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return cmd_synth(args)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"infractl: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
