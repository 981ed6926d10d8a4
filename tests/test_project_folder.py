"""Commands that work on the project say where to run them when run elsewhere (issue 18, 10)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, infractl

WHERE = "run infractl from the tbcoin-platform project folder (the one holding its Pulumi.yaml)"
PROJECT_COMMANDS = [
    ["synth", "--stack", "prod", "--out", "out"],
    ["check", "--stack", "prod"],
    ["policies", "catalogue"],
    ["drift", "--stack", "prod"],
    ["rollout", "status", "--stack", "prod", "--service", "inference"],
]


@pytest.mark.parametrize("command", PROJECT_COMMANDS, ids=lambda c: c[0])
def test_outside_any_project_says_where_to_run(tmp_path: Path, command: list[str]) -> None:
    run = infractl(*command, cwd=tmp_path)
    assert run.code == 2
    assert run.stderr == f"infractl: no Pulumi.yaml in {tmp_path} or any parent folder; {WHERE}\n"
    assert list(tmp_path.iterdir()) == []


def test_another_pulumi_project_is_not_taken_for_this_one(tmp_path: Path) -> None:
    # Before: its stack file was read and run through this project's program.
    (tmp_path / "Pulumi.yaml").write_text("name: payments\nruntime: python\n")
    shutil.copy(REPO / "Pulumi.prod.yaml", tmp_path / "Pulumi.prod.yaml")
    run = infractl("synth", "--stack", "prod", "--out", "out", cwd=tmp_path)
    assert run.code == 2
    assert run.stderr == (
        f"infractl: {tmp_path}/Pulumi.yaml is the Pulumi project 'payments', not "
        f"tbcoin-platform; {WHERE}\n"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack", "up/../evil"], "--stack 'up/../evil': a stack name is 1-100"),
        (["--stack", "s" * 300], "a stack name is 1-100 letters"),
        # One rule with `infractl drift`, which hands the name to `pulumi --stack`.
        (["--stack", ".hidden"], "starting with a letter or digit"),
        (["--stack", "prod", "--config-file", "c" * 300], "File name too long"),
    ],
)
def test_odd_stack_arguments_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    run = infractl("synth", *args, "--out", tmp_path / "out")
    assert run.code == 2 and run.stderr.count("\n") == 1, run.stderr
    assert message in run.stderr and "Traceback" not in run.stderr
