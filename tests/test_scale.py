"""A plan's own work grows linearly with the repositories it governs, checked by counting function
calls (bench.probes ops), never by timing: at 4, 8 and 12 synthetic repositories the second
step costs what the first did. The mutation test puts back the quadratic term this found (a
synchronous GitHub lookup per repository between registrations) and shows the check sees it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.stacks import REPO, write_stack

SIZES = (4, 8, 12)
# The count varies by a few hundred calls between runs (threads); one repository is ~250,000.
# A quadratic term of one handle per resource already registered adds ~2% at these sizes.
TOLERANCE = 0.005

# The program as it was: each repository's lookups made right before its resources, after all
# the earlier repositories' registrations.
INTERLEAVED = """
import sys
from pathlib import Path
from infra.github import governance
from infra.github.component import GovernedRepository, repository_context
from infra.github.settings import declarations
import pulumi, pulumi_github as github
from bench import probes

def interleaved(config):
    provider = github.Provider("github", owner=config.owner)
    invoke = pulumi.InvokeOptions(provider=provider)
    team = lambda slug: github.get_team_output(slug=slug, opts=invoke).id.apply(int)
    for name, s in sorted(config.settings.items()):
        ctx = repository_context(config.owner, name, s, config.action_pins, team, invoke)
        GovernedRepository(config.owner, name, declarations(ctx), provider)

governance.declare_governance = interleaved
import infra.program
infra.program.declare_governance = interleaved
print(probes.json.dumps(probes.operations(Path(sys.argv[1]))))
"""


def _calls(stack: Path, mutated: bool) -> int:
    command = (
        [sys.executable, "-c", INTERLEAVED, str(stack)]
        if mutated
        else [sys.executable, "-m", "bench.probes", "ops", str(stack)]
    )
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    return int(json.loads(done.stdout)["calls"])


def _excess(tmp_path: Path, mutated: bool) -> float:
    """The second step's extra calls over the first step's, as a fraction of the first."""
    counts = [_calls(write_stack(tmp_path, n, 1), mutated) for n in SIZES]
    first, second = counts[1] - counts[0], counts[2] - counts[1]
    return (second - first) / first


@pytest.mark.parametrize("mutated", [False, True], ids=["program", "interleaved-lookups"])
def test_the_plan_grows_linearly_with_repositories(tmp_path: Path, mutated: bool) -> None:
    excess = _excess(tmp_path, mutated)
    if mutated:
        assert excess > TOLERANCE, f"the quadratic term went unseen ({excess:.4f})"
    else:
        assert excess <= TOLERANCE, (
            f"from {SIZES[1]} to {SIZES[2]} repositories a plan made {excess:.2%} more calls "
            f"per repository than from {SIZES[0]} to {SIZES[1]}: something per resource scans "
            "what came before (profile it: bench/README.md)"
        )
