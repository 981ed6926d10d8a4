"""The Gateway API plugin's image digest: the repository's stacks carry a marked placeholder
that no registry serves. The offline plan accepts it (and warns); the program refuses it whenever
the engine runs it, naming the file, the key, the command that gives the digest and how to
verify its signature, so no stack can ship a controller that cannot start."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pulumi
import pulumi.runtime
import pytest

from infra.config.rollouts import GATEWAY_PLUGIN, RUNBOOK, is_placeholder_digest
from infra.stack import deploy_problems, load_stack
from infractl.project import PROJECT
from infractl.stackfile import read_stack_file
from infractl.synth.capture import StableMocks
from tests.conftest import REPO

KEY = "tbcoin-platform:rollouts.gatewayPluginImage"
REAL = GATEWAY_PLUGIN + "@sha256:" + "5d41402abc4b2a76b9719d911017c592" * 2


def _fix_named(message: str, source: str) -> None:
    """One short line naming the file and the key; the how-to is in the runbook it names."""
    assert message.startswith(f"{source}: {KEY}: the digest is a placeholder")
    assert RUNBOOK in message and (REPO / RUNBOOK).is_file()
    assert "\n" not in message and len(message) < 200


@pytest.mark.parametrize(
    ("digest", "placeholder"),
    [("0" * 64, True), ("f" * 64, True), ("5d41402abc4b2a76b9719d911017c592" * 2, False)],
)
def test_a_digest_of_one_repeated_digit_is_a_placeholder(digest: str, placeholder: bool) -> None:
    assert is_placeholder_digest(f"{GATEWAY_PLUGIN}@sha256:{digest}") is placeholder


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_repository_stacks_plan_but_name_the_unresolved_digest(stack: str) -> None:
    source = f"Pulumi.{stack}.yaml"
    config = load_stack(source, read_stack_file(REPO / source).config, stack=stack)
    [problem] = deploy_problems(config)
    _fix_named(problem.render(source), source)


def test_a_resolved_digest_is_no_deploy_problem() -> None:
    config = load_stack(
        "Pulumi.prod.yaml", read_stack_file(REPO / "Pulumi.prod.yaml").config, stack="prod"
    )
    assert config.rollouts is not None
    resolved = config.model_copy(
        update={"rollouts": config.rollouts.model_copy(update={"gateway_plugin_image": REAL})}
    )
    assert deploy_problems(resolved) == []


@pytest.fixture
def engine_run() -> Iterator[None]:
    """The program as the engine starts it: no config handed in, the stack's settings read from
    the runtime (set_all_config), under the same mocks `infractl synth` uses."""
    flat = read_stack_file(REPO / "Pulumi.prod.yaml").config
    pulumi.runtime.set_mocks(StableMocks(), project=PROJECT, stack="prod", preview=True)
    pulumi.runtime.set_all_config(copy.deepcopy(flat), [])
    yield
    pulumi.runtime.set_all_config({}, [])


@pytest.mark.usefixtures("engine_run")
def test_the_engine_run_of_the_program_refuses_the_placeholder() -> None:
    from infra import program

    with pytest.raises(pulumi.RunError) as caught:
        program.main()
    _fix_named(str(caught.value), "Pulumi.prod.yaml")
