"""Waivers under the real engine: the pack reads `waivers/<stack>.json` beside itself, so a run
that needs waivers of its own runs a copy of the pack (the same files) and writes them there;
the repository's own policies/waivers/ is never touched."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path
from typing import Any

from e2e import engine
from e2e.programs import program, weakened_program
from e2e.scenario import StackRun, Step
from e2e.tools import ROOT

# The Pulumi project's name (Pulumi.yaml), the second part of every URN.
PROJECT = "tbcoin-platform"

# What the pack imports from beside its folder (policies/__main__.py puts the parent on the path).
BESIDE = ("scorecard", "secret_patterns")


def copy_pack(folder: Path) -> Path:
    """A copy of policies/ as `folder/policies` (without the repository's waivers), its
    neighbours linked; returns the copy's folder."""
    pack = folder / "policies"
    shutil.copytree(
        ROOT / "policies",
        pack,
        ignore=shutil.ignore_patterns("__pycache__", "waivers", "venv"),
        symlinks=True,
    )
    for name in BESIDE:
        (folder / name).symlink_to(ROOT / name, target_is_directory=True)
    return pack


NAME = "privileged-pod"
POLICY = "k8s-pod-security-restricted"
NOTICES = "policy-waivers"


def waivers_file(stack: str, project: str, today: datetime.date) -> dict[str, Any]:
    """A live waiver for the weakened program's privileged pod (e2e/programs.py), two weeks."""
    return {
        NAME: {
            "policy": POLICY,
            "urn": f"urn:pulumi:{stack}::{project}::kubernetes:core/v1:Pod::privileged",
            "reason": "e2e: the weakened stack's privileged pod, excused for two weeks",
            "approvedBy": "@tbcoin/security",
            "granted": today.isoformat(),
            "expires": (today + datetime.timedelta(days=14)).isoformat(),
        }
    }


def _events(result: engine.Result, policy: str) -> list[dict[str, Any]]:
    return [e for e in result.policy_violations() if e.get("policyName") == policy]


def waived(s: StackRun) -> str:
    """The weakened program (the stack plus a privileged pod) under a copy of the pack whose
    waivers file excuses that pod: `up` passes, the pod's violations reported as waived; the
    same file on its expiry day (TBCOIN_WAIVERS_TODAY): `up` is stopped again and the expired
    waiver named; a preview of the program without the pod names the waiver stale."""
    report, pulumi = s.report, s.pulumi
    stack, check = report.stack, report.check
    pack = copy_pack(s.folder / "waivers-pack")
    today = datetime.datetime.now(datetime.UTC).date()
    waivers = waivers_file(stack, PROJECT, today)
    (pack / "waivers").mkdir()
    (pack / "waivers" / f"{stack}.json").write_text(json.dumps(waivers, indent=2))
    config = ROOT / "policies" / "config" / f"{stack}.json"
    args = [
        "--stack",
        stack,
        "--policy-pack",
        str(pack / "serve"),
        "--policy-pack-config",
        str(config),
    ]

    up = pulumi.run("up", "--yes", *args, program=weakened_program)
    excused = _events(up, POLICY)
    report.step("waived-up", up, waived=len(excused))
    check(
        up.returncode == 0, f"the weakened stack with a live waiver was refused: {up.stderr[-300:]}"
    )
    check(
        bool(excused)
        and all(
            e.get("enforcementLevel") == "advisory"
            and f"Waived by '{NAME}'" in str(e.get("message"))
            for e in excused
        ),
        f"{POLICY} not reported as waived: {excused[:1]}",
    )

    expires = waivers[NAME]["expires"]
    again = pulumi.run(
        "up", "--yes", *args, program=weakened_program, env={"TBCOIN_WAIVERS_TODAY": expires}
    )
    levels = sorted({str(e.get("enforcementLevel")) for e in _events(again, POLICY)})
    named = [str(e.get("message")) for e in _events(again, NOTICES)]
    report.step("waiver-expired-up", again, levels=levels)
    check(again.returncode != 0, "the weakened stack was applied after its waiver expired")
    check(levels == ["mandatory"], f"{POLICY} once the waiver expired: {levels}")
    check(
        any(f"Waiver '{NAME}'" in m and f"expired on {expires}" in m for m in named),
        f"the expired waiver is not named: {named}",
    )

    stale = pulumi.run("preview", *args, program=program)
    named = [str(e.get("message")) for e in _events(stale, NOTICES)]
    report.step("waiver-stale-preview", stale)
    check(stale.returncode == 0, f"preview without the pod failed: {stale.stderr[-300:]}")
    check(any(f"Waiver '{NAME}'" in m and "is stale" in m for m in named), f"not stale: {named}")
    return (
        f"up exit {up.returncode} with {len(excused)} waived, exit {again.returncode} once "
        f"expired, stale without the pod"
    )


STEP = Step(
    "waivers",
    "the weakened program (a privileged pod) under a copy of the pack whose waivers file excuses "
    "the pod; the same file on its expiry day; a preview without the pod",
    "up passes with the pod's violations advisory 'Waived by ...'; once expired up is stopped "
    "and the waiver named expired; without the pod the waiver is named stale",
    waived,
    needs=("up",),
)
