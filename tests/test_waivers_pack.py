"""Waivers as the pack honours them, through its real analyzer protocol in its own process.

The pack reads `waivers/<stack>.json` beside itself, so these tests run a copy of the pack
(the same files) whose waivers file each test writes; one pack process serves the module and
reads the file afresh at each check's ConfigureStack, as `infractl check --watch` relies on.
Resources are the real prod synth, weakened where a policy must fire (config cannot produce
these: the program always builds them right).
"""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from e2e.waivers import copy_pack
from infractl.policy.analyzer import RunningPack, running_pack
from infractl.policy.check import analyze
from infractl.policy.results import CheckResult, Violation
from infractl.project import PROJECT
from infractl.synth.capture import struct_of
from infractl.synth.harness import SynthResult
from tests.conftest import REPO, synth

TODAY = datetime.datetime.now(datetime.UTC).date()
ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def day(offset: int) -> str:
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_pack(tmp_path_factory.mktemp("pack"))


def _start(pack_dir: Path) -> AbstractContextManager[RunningPack]:
    return running_pack(pack_dir, project=PROJECT, stack="prod", config={})


@pytest.fixture(scope="module")
def pack(pack_dir: Path) -> Iterator[RunningPack]:
    with _start(pack_dir) as running:
        yield running


def _write(pack_dir: Path, waivers: dict[str, Any] | str) -> None:
    folder = pack_dir / "waivers"
    folder.mkdir(exist_ok=True)
    text = waivers if isinstance(waivers, str) else json.dumps(waivers, indent=2)
    (folder / "prod.json").write_text(text)


def _check(pack: RunningPack, result: SynthResult) -> CheckResult:
    config = REPO / "policies" / "config" / "prod.json"
    return analyze(pack, "prod", result.resources, config, {}, [])


def _without_probe(result: SynthResult) -> SynthResult:
    """Prod with the api's readiness probe removed (k8s-probes fires on its Rollout)."""
    altered = copy.deepcopy(result)
    for r in altered.resources:
        if r.type == ROLLOUT and r.name.endswith("api"):
            r.inputs["spec"]["template"]["spec"]["containers"][0].pop("readinessProbe")
            r.raw = struct_of(r.inputs)
    return altered


def _rollout_urn(result: SynthResult, suffix: str) -> str:
    return next(r.urn for r in result.resources if r.type == ROLLOUT and r.name.endswith(suffix))


def _waiver(**fields: Any) -> dict[str, Any]:
    return {
        "policy": "k8s-probes",
        "reason": "the api's readiness endpoint is being rewritten (INC-42)",
        "approvedBy": "@tbcoin/security",
        "granted": day(-10),
        "expires": day(20),
        **fields,
    }


def _of(result: CheckResult, policy: str) -> list[Violation]:
    return [v for v in result.violations if v.policy == policy]


@pytest.fixture(scope="module")
def weakened() -> SynthResult:
    return _without_probe(synth("prod")[0])


def test_a_live_waiver_reports_the_violation_as_waived_and_the_check_passes(
    pack: RunningPack, pack_dir: Path, weakened: SynthResult
) -> None:
    _write(pack_dir, {})
    before = _check(pack, weakened)
    assert [v.enforcement for v in _of(before, "k8s-probes")] == ["mandatory"]
    assert before.failed

    _write(pack_dir, {"api-probe": _waiver(urn=_rollout_urn(weakened, "api"))})
    after = _check(pack, weakened)
    (waived,) = _of(after, "k8s-probes")
    assert waived.enforcement == "advisory"
    assert waived.waiver == "api-probe"
    assert waived.message.startswith(
        f"Waived by 'api-probe' (expires {day(20)}, approved by @tbcoin/security): "
        "Container 'app' has no readinessProbe."
    )
    assert not after.failed
    assert _of(after, "policy-waivers") == []


def test_an_expired_waiver_makes_the_violation_count_and_is_reported(
    pack: RunningPack, pack_dir: Path, weakened: SynthResult
) -> None:
    urn = _rollout_urn(weakened, "api")
    _write(pack_dir, {"api-probe": _waiver(urn=urn, granted=day(-40), expires=day(0))})
    result = _check(pack, weakened)
    (counted,) = _of(result, "k8s-probes")
    assert counted.enforcement == "mandatory" and counted.waiver == ""
    assert f"(Waiver 'api-probe' expired on {day(0)}: this counts again.)" in counted.message
    (notice,) = _of(result, "policy-waivers")
    assert notice.enforcement == "advisory"
    assert notice.message.startswith(f"Waiver 'api-probe' (k8s-probes on urn {urn}) expired on ")
    assert result.failed


@pytest.mark.parametrize(
    ("selector", "why"),
    [
        ({"name": "no-such-resource*"}, "it selects no resource of the stack"),
        ({"name": "*inference"}, "k8s-probes reports nothing on what it selects"),
    ],
)
def test_a_waiver_that_waives_nothing_is_reported_stale(
    pack: RunningPack, pack_dir: Path, weakened: SynthResult, selector: dict[str, str], why: str
) -> None:
    _write(pack_dir, {"unused": _waiver(**selector)})
    result = _check(pack, weakened)
    (notice,) = _of(result, "policy-waivers")
    assert notice.enforcement == "advisory"
    assert f"is stale, it waives nothing: {why}." in notice.message
    assert [v.enforcement for v in _of(result, "k8s-probes")] == ["mandatory"]


def test_a_name_pattern_waives_every_resource_it_selects(pack: RunningPack, pack_dir: Path) -> None:
    both = copy.deepcopy(synth("prod")[0])
    for r in both.resources:
        if r.type == ROLLOUT:
            r.inputs["spec"]["template"]["spec"]["containers"][0].pop("livenessProbe")
            r.raw = struct_of(r.inputs)
    _write(pack_dir, {})
    assert len(_of(_check(pack, both), "k8s-probes")) == 2
    _write(pack_dir, {"probes": _waiver(name="*-*")})  # too wide: refused as malformed
    assert [v.enforcement for v in _of(_check(pack, both), "policy-waivers")] == ["mandatory"]
    names = sorted(r.name.rsplit("-", 1)[-1] for r in both.resources if r.type == ROLLOUT)
    assert names == ["api", "inference"]
    _write(pack_dir, {"probes": _waiver(name="*-api"), "more": _waiver(name="*inference")})
    waived = _of(_check(pack, both), "k8s-probes")
    assert sorted(v.waiver for v in waived) == ["more", "probes"]


def test_a_stack_policy_violation_is_waived_on_the_resource_it_names(
    pack: RunningPack, pack_dir: Path
) -> None:
    open_namespace = copy.deepcopy(synth("prod")[0])
    for r in open_namespace.resources:
        if r.type == NETWORK_POLICY and r.inputs["metadata"]["name"] == "default-deny":
            r.inputs["spec"]["policyTypes"] = ["Ingress"]
            r.raw = struct_of(r.inputs)
    _write(pack_dir, {})
    denied = _of(_check(pack, open_namespace), "k8s-namespace-default-deny")
    assert denied and {v.enforcement for v in denied} == {"mandatory"}
    urn = denied[0].urn
    _write(pack_dir, {"ns": _waiver(policy="k8s-namespace-default-deny", urn=urn)})
    result = _check(pack, open_namespace)
    assert {
        (v.urn, v.enforcement, v.waiver) for v in _of(result, "k8s-namespace-default-deny")
    } >= {(urn, "advisory", "ns")}
    assert _of(result, "policy-waivers") == []


@pytest.mark.parametrize(
    ("waivers", "problem"),
    [
        ("{", "policies/waivers/prod.json: waiver: not valid JSON: line 1, column 2"),
        ('{"a": {}, "a": {}}', "policies/waivers/prod.json: waiver: duplicate key 'a'"),
        (
            {"x": _waiver(policy="github-secret-scanning", name="tbcoin-*")},
            "policies/waivers/prod.json: waiver:x.policy: is not waivable",
        ),
        (
            {"x": _waiver(name="abc", expires=day(100))},
            "policies/waivers/prod.json: waiver:x.expires: must be at most 90 days",
        ),
    ],
)
def test_a_malformed_file_fails_and_waives_nothing(
    pack: RunningPack,
    pack_dir: Path,
    weakened: SynthResult,
    waivers: dict[str, Any] | str,
    problem: str,
) -> None:
    good = {"api-probe": _waiver(urn=_rollout_urn(weakened, "api"))}
    text = waivers if isinstance(waivers, str) else json.dumps({**good, **waivers})
    _write(pack_dir, text)
    result = _check(pack, weakened)
    notices = _of(result, "policy-waivers")
    assert [v.enforcement for v in notices] == ["mandatory"]
    assert notices[0].message.startswith(problem)
    assert notices[0].message.endswith(". No waiver applies until the file is fixed.")
    assert [v.enforcement for v in _of(result, "k8s-probes")] == ["mandatory"]
    assert result.failed


def test_a_day_moved_later_expires_a_waiver_and_one_moved_earlier_revives_nothing(
    pack_dir: Path, weakened: SynthResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    urn = _rollout_urn(weakened, "api")
    _write(pack_dir, {"api-probe": _waiver(urn=urn)})  # expires in 20 days
    for moved, level in ((day(19), "advisory"), (day(20), "mandatory")):
        monkeypatch.setenv("TBCOIN_WAIVERS_TODAY", moved)
        with _start(pack_dir) as later:
            (counted,) = _of(_check(later, weakened), "k8s-probes")
        assert counted.enforcement == level, moved
    _write(pack_dir, {"api-probe": _waiver(urn=urn, granted=day(-40), expires=day(-1))})
    monkeypatch.setenv("TBCOIN_WAIVERS_TODAY", day(-5))
    with _start(pack_dir) as earlier:
        (counted,) = _of(_check(earlier, weakened), "k8s-probes")
    assert counted.enforcement == "mandatory"
    monkeypatch.setenv("TBCOIN_WAIVERS_TODAY", "tomorrow")
    with _start(pack_dir) as wrong:
        (notice,) = _of(_check(wrong, weakened), "policy-waivers")
    assert notice.enforcement == "mandatory"
    assert notice.message.startswith("environment: TBCOIN_WAIVERS_TODAY must be a date")


def test_without_a_waivers_file_nothing_is_waived_or_reported(
    pack: RunningPack, pack_dir: Path, weakened: SynthResult
) -> None:
    (pack_dir / "waivers" / "prod.json").unlink(missing_ok=True)
    result = _check(pack, weakened)
    assert _of(result, "policy-waivers") == []
    assert [v.enforcement for v in _of(result, "k8s-probes")] == ["mandatory"]
