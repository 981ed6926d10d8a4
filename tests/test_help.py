"""What a user asking for help gets: `make help` from the Makefile itself, `infractl --help` on
every option of every command (docs/reference/cli.md is generated from the same parser), and
`infractl --version`."""

from __future__ import annotations

import argparse
import re
import subprocess
from collections.abc import Iterator

from tests.conftest import REPO, infractl


def test_make_help_lists_every_target_with_what_it_does() -> None:
    makefile = (REPO / "Makefile").read_text()
    declared = re.search(r"^\.PHONY:(.*)$", makefile, re.M)
    assert declared
    phony = set(declared.group(1).split())
    run = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=REPO, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    listed = {}
    for line in run.stdout.splitlines():
        target, _, text = line.strip().partition(" ")
        listed[target] = text.strip()
    assert set(listed) == phony, "every .PHONY target needs a `## <what it does>` line above it"
    assert all(listed.values())


def test_make_without_a_target_shows_the_help() -> None:
    run = subprocess.run(["make", "--no-print-directory"], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0 and "plan " in run.stdout


def _arguments(
    parser: argparse.ArgumentParser, command: str = "infractl"
) -> Iterator[tuple[str, argparse.Action]]:
    """Every argument of every command, sub-commands walked through."""
    for action in parser._actions:  # argparse keeps a parser's arguments only here
        if isinstance(action, argparse._SubParsersAction):
            yield command, action
            for name, sub in action.choices.items():
                yield from _arguments(sub, f"{command} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield command, action


def test_every_option_of_every_command_says_what_it_does() -> None:
    from infractl.cli import parser

    arguments = list(_arguments(parser()))
    assert len(arguments) > 40  # the walk reached the sub-commands
    silent = [
        f"{command} {'/'.join(action.option_strings) or action.dest}"
        for command, action in arguments
        if not (action.help or "").strip()
    ]
    assert silent == [], "give each a help= that says what it does"


def test_version_is_the_installed_package_version() -> None:
    from importlib.metadata import version

    run = infractl("--version")
    assert (run.code, run.stdout, run.stderr) == (0, f"infractl {version('tbcoin-platform')}\n", "")
    declared = re.search(r'^version = "(.+)"$', (REPO / "pyproject.toml").read_text(), re.M)
    assert declared and declared.group(1) == version("tbcoin-platform")
