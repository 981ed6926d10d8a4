"""Waivers as users meet them: which policies may be waived (and never the config floor), the
file refused like config, `infractl check` and `infractl waivers` on a project of their own
(a copy of this one's stack files and pack: the pack reads the waivers beside itself), and this
repository's CODEOWNERS routing the waivers to the security owners."""

from __future__ import annotations

import copy
import datetime
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.waivers import copy_pack
from infra.config.floor import TABLE, floored_parameters
from infra.config.github import effective_owners
from infractl.pack import pack_catalogue
from tests.conftest import REPO, infractl, load_stack

TODAY = datetime.datetime.now(datetime.UTC).date()
SANDBOX = (
    "urn:pulumi:staging::tbcoin-platform::tbcoin:github:GovernedRepository$"
    "github:index/repository:Repository::tbcoin-platform-sandbox"
)


def day(offset: int) -> str:
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


def waiver(**fields: Any) -> dict[str, Any]:
    return {
        "policy": "github-security-policy-and-owners",
        "urn": SANDBOX,
        "reason": "the sandbox takes SECURITY.md from the organisation's .github repository",
        "approvedBy": "@tbcoin/security",
        "granted": day(-5),
        "expires": day(30),
        **fields,
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """This project's stack files and pack; staging without a securityPolicy, so its sandbox
    repository has no managed SECURITY.md (github-security-policy-and-owners, waivable)."""
    copy_pack(tmp_path)
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    staging = copy.deepcopy(load_stack("staging"))
    del staging["config"]["tbcoin-platform:github"]["defaults"]["securityPolicy"]
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(staging, sort_keys=False))
    (tmp_path / "policies" / "waivers").mkdir()
    return tmp_path


def write(project: Path, stack: str, waivers: dict[str, Any] | str) -> Path:
    path = project / "policies" / "waivers" / f"{stack}.json"
    path.write_text(waivers if isinstance(waivers, str) else json.dumps(waivers, indent=2))
    return path


def test_no_policy_the_config_floor_holds_is_waivable() -> None:
    catalogue = pack_catalogue(REPO / "policies")
    held = {policy for policy, _ in floored_parameters()}
    assert held, "the floor holds no policy parameter any more: update this test"
    assert {name for name in held if catalogue[name]["waivable"]} == set()
    guards = {row.name for row in TABLE if row.name}
    for name, policy in catalogue.items():
        assert set(policy["floor"]) <= guards, f"{name} names a floor row that does not exist"
        assert not (policy["floor"] and policy["waivable"]), name
        assert policy["waiver"], f"{name} does not say why it is or is not waivable"
    waivable = sorted(name for name, p in catalogue.items() if p["waivable"])
    assert "k8s-pod-security-restricted" in waivable and "policy-waivers" not in waivable


def test_the_catalogue_says_which_policies_are_waivable_and_why() -> None:
    text = (REPO / "docs" / "reference" / "policies.md").read_text()
    for name, policy in pack_catalogue(REPO / "policies").items():
        answer = "yes" if policy["waivable"] else "no"
        assert f"- `{name}`: **{answer}**" in text


def test_a_malformed_waivers_file_stops_the_check_before_anything_runs(project: Path) -> None:
    write(project, "staging", {"Debug": waiver(expires=day(90)), "ok": waiver(urn=None)})
    out = project / "out"
    run = infractl("check", "--stack", "staging", "--out", out, cwd=project)
    assert run.code == 2
    assert run.stderr.splitlines() == [
        "policies/waivers/staging.json: waiver:Debug: the key itself must be a DNS label: "
        "lowercase letters, digits and '-', at most 63 characters (got 'Debug')",
        "policies/waivers/staging.json: waiver:Debug.expires: must be at most 90 days after "
        "`granted`",
        "policies/waivers/staging.json: waiver:ok: give exactly one selector: `urn` or `name`",
    ]
    assert not out.exists()
    write(project, "staging", '{"a": {}, "a": {}}')
    run = infractl("waivers", "--no-check", cwd=project)
    assert run.code == 2
    assert run.stderr.startswith("policies/waivers/staging.json: waiver: duplicate key 'a'")


def test_a_live_waiver_lets_the_check_pass_and_says_so(project: Path) -> None:
    base = infractl("check", "--stack", "staging", "--format", "json", cwd=project)
    fired = [
        v for v in json.loads(base.stdout)["violations"]
        if v["policy"] == "github-security-policy-and-owners"
    ]  # fmt: skip
    assert [(v["urn"], v["waiver"]) for v in fired] == [(SANDBOX, "")]
    write(project, "staging", {"sandbox-security": waiver()})
    run = infractl("check", "--stack", "staging", cwd=project)
    assert run.code == 0, run.stdout
    assert (
        "    [waived] github-security-policy-and-owners (medium): Waived by 'sandbox-security' "
        f"(expires {day(30)}, approved by @tbcoin/security): Repository 'tbcoin-platform-sandbox' "
        "has no managed SECURITY.md."
    ) in run.stdout
    verdict = run.stdout.rstrip().splitlines()[-1]
    assert verdict.startswith("passed: 0 mandatory, ") and verdict.endswith(
        ", 1 waived violation(s)"
    )


def test_infractl_waivers_lists_them_and_fails_on_expired_or_stale(project: Path) -> None:
    write(
        project,
        "staging",
        {
            "sandbox-security": waiver(expires=day(10)),
            "old": waiver(urn=None, name="tbcoin-*", granted=day(-60), expires=day(-1)),
            "unused": waiver(policy="k8s-probes", urn=None, name="tbcoin-platform-sandbox"),
        },
    )
    run = infractl("waivers", "--stack", "staging", cwd=project)
    assert run.code == 1, run.stderr
    assert run.stdout.splitlines() == [
        f"stack staging (policies/waivers/staging.json) on {TODAY}: 3 waivers",
        "  ! old: github-security-policy-and-owners on name tbcoin-*",
        f"      expired on {day(-1)}: its violations count again",
        f"      approved by @tbcoin/security on {day(-60)}: the sandbox takes SECURITY.md from "
        "the organisation's .github repository",
        f"  ~ sandbox-security: github-security-policy-and-owners on urn {SANDBOX}",
        f"      in force, waives 1 violation; expires {day(10)}, in 10 days (expiring soon)",
        f"      approved by @tbcoin/security on {day(-5)}: the sandbox takes SECURITY.md from "
        "the organisation's .github repository",
        "  ! unused: k8s-probes on name tbcoin-platform-sandbox",
        f"      stale: waives nothing; expires {day(30)}, in 30 days",
        f"      approved by @tbcoin/security on {day(-5)}: the sandbox takes SECURITY.md from "
        "the organisation's .github repository",
        "2 to renew or remove (expired or stale)",
    ]
    listed = infractl(
        "waivers", "--stack", "staging", "--no-check", "--format", "json", cwd=project
    )
    assert listed.code == 1  # the expired one; nothing is known stale without the check
    states = {w["name"]: w["state"] for w in json.loads(listed.stdout)[0]["waivers"]}
    assert states == {"old": "expired", "sandbox-security": "in force", "unused": "in force"}


def test_without_waivers_every_stack_is_in_order(project: Path) -> None:
    run = infractl("waivers", cwd=project)
    assert run.code == 0
    assert run.stdout.splitlines()[-1] == "all waivers in order"


def test_a_bad_day_to_judge_on_is_one_line_and_exit_2(project: Path) -> None:
    run = infractl("waivers", "--no-check", cwd=project, env={"TBCOIN_WAIVERS_TODAY": "soon"})
    assert (run.code, run.stderr) == (
        2,
        "environment: TBCOIN_WAIVERS_TODAY: must be a date as YYYY-MM-DD (got 'soon')\n",
    )


def test_codeowners_is_generated_from_config_and_fresh() -> None:
    run = infractl("codeowners")
    assert run.code == 0
    assert (REPO / ".github" / "CODEOWNERS").read_text() == run.stdout


def _rules(text: str) -> list[Any]:
    from infra.config.github import CodeOwner

    lines = [line.split() for line in text.splitlines() if line and not line.startswith("#")]
    return [CodeOwner(pattern=parts[0], owners=parts[1:]) for parts in lines]


@pytest.mark.parametrize(
    "path",
    ["policies/waivers/prod.json", "policies/waivers/staging.json", "codeowners.yaml",
     ".github/CODEOWNERS"],
)  # fmt: skip
def test_only_the_security_owners_review_the_waivers_and_who_reviews_them(path: str) -> None:
    security = yaml.safe_load((REPO / "codeowners.yaml").read_text())["security"]
    rules = _rules((REPO / ".github" / "CODEOWNERS").read_text())
    assert effective_owners(rules, path) == security
    assert effective_owners(rules, "policies/config/prod.json") != security


def test_the_owners_config_is_refused_like_config(tmp_path: Path) -> None:
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "codeowners.yaml").write_text(
        "owner: tbcoin\nrules: [{pattern: '*', owners: ['@tbcoin/team-leads']}]\n"
        "security: ['@other/security']\n"
    )
    run = infractl("codeowners", cwd=tmp_path)
    assert (run.code, run.stderr) == (
        2,
        "codeowners.yaml: codeowners:security[0]: @other/security is a team of another "
        "organisation\n",
    )
