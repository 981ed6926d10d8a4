"""What a user asks the tools for help gets: `make help` from the Makefile itself."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import REPO


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
