"""The policy pack, run through its real analyzer protocol in its own process.

Firing cases change the real prod/staging stack config (config -> program -> pack); where no
config can produce the violation (the program always builds it right), real synthesized
resources are altered before they reach the pack. Those cases share one pack process per test
module (each check configures it afresh, as `infractl check` does) and the per-run synth cache;
`infractl check` itself runs end to end on the real stacks and on one weakened stack.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

from infractl.policy.analyzer import PackError, RunningPack, running_pack
from infractl.policy.check import analyze, run_check
from infractl.policy.results import CheckResult
from infractl.project import PROJECT
from infractl.synth.capture import struct_of
from infractl.synth.harness import SynthResult
from tests.conftest import REPO, infractl, load_stack, set_at, synth

POLICIES = REPO / "policies"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


def _check(*args: str | Path) -> tuple[int, dict[str, Any]]:
    run = infractl("check", *args, "--format", "json")
    assert run.code in (0, 1), run.stderr
    return run.code, json.loads(run.stdout)


@pytest.fixture(scope="module")
def pack() -> Iterator[RunningPack]:
    """One pack process for the module's firing cases."""
    with running_pack(POLICIES, project=PROJECT, stack="prod", config={}) as running:
        yield running


def _without_run_details(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "analyzer"}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_real_stacks_pass_in_a_separate_analyzer_process(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    run = infractl("check", "--stack", stack, "--format", "json")
    code, report = run.code, json.loads(run.stdout)
    assert code == 0
    assert [v for v in report["violations"] if v["enforcement"] == "mandatory"] == []
    # The unresolved plugin digest plans and is named once, in one short line whose how-to is
    # the runbook it names (tests/test_plugin_digest.py).
    [warning] = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert warning.startswith(
        f"warning: Pulumi.{stack}.yaml: tbcoin-platform:rollouts.gatewayPluginImage:"
    )
    assert "docs/runbooks/plugin-image-digest.md" in warning and len(warning) < 250
    assert report["policies"] >= 20
    assert report["resources"] > 30
    analyzer = report["analyzer"]
    assert analyzer["command"][1:4] == ["-u", "-m", "pulumi.policy"]
    assert analyzer["command"][-1] == str(POLICIES)
    assert 0 < analyzer["port"] < 65536
    assert analyzer["pid"] != os.getpid()
    assert not _alive(analyzer["pid"]), "the pack process was left running"
    # Checking the synth output instead of running the program again: the same report.
    from_code, from_report = _check("--stack", stack, "--from", synthesized(stack))
    assert from_code == code
    assert _without_run_details(from_report) == _without_run_details(report)


def test_check_from_a_missing_or_broken_output_exits_2(tmp_path: Path) -> None:
    run = infractl("check", "--stack", "prod", "--from", tmp_path)
    assert (run.code, run.stdout) == (2, "")
    assert run.stderr == (
        f"infractl: {tmp_path}/resources.json not found: write it with "
        f"`infractl synth --out {tmp_path}`\n"
    )
    (tmp_path / "resources.json").write_text('[{"urn": 1}]')
    run = infractl("check", "--stack", "prod", "--from", tmp_path)
    assert run.code == 2
    assert run.stderr.startswith(f"infractl: {tmp_path}/resources.json: not a synth output")


def _policy_config(stack: str) -> Path:
    return REPO / "policies/config" / f"{stack}.json"


PROD_REPO = "github.repositories.tbcoin-engine-ml"


def _unmonitored(config: dict[str, Any]) -> None:
    """No monitoring at all; progressive releases need it, so the services roll, and release
    notifications (which go to one of its receivers) go too."""
    config.pop("tbcoin-platform:monitoring")
    config["tbcoin-platform:rollouts"].pop("notifications")
    for svc in config["tbcoin-platform:services"].values():
        svc["strategy"] = {"type": "rolling", "image": svc["strategy"]["image"]}


# What the security floor lets through to the pack (what it refuses first is below, ALTERED).
WEAKENED = {
    "github-dependabot-covers-ecosystems": (
        "prod",
        set_at(
            f"{PROD_REPO}.dependabot",
            {"ecosystems": [{"ecosystem": "pip"}, {"ecosystem": "github-actions"}]},
        ),
    ),
    "github-security-policy-and-owners": ("prod", set_at(f"{PROD_REPO}.securityPolicy", None)),
    # Installs by name again: Pinned-Dependencies drops to 4, under prod's floor of 9.
    "github-scorecard-floor": (
        "prod",
        lambda c: c["tbcoin-platform:github"]["repositories"]["tbcoin-engine-ml"].pop("workflows"),
    ),
    "github-single-stack-ownership": (
        "prod",
        set_at("github.repositories.tbcoin-platform-sandbox", {"groups": ["production-services"]}),
    ),
    "k8s-images-pinned": ("staging", set_at("services.api.strategy.image", "1.4.2")),
    "k8s-production-high-availability": (
        "prod",
        lambda c: c["tbcoin-platform:services"]["inference"].update(replicas=1, autoscaling=None),
    ),
    # Staging: prod's floor refuses rolling releases first (services.<name>.strategy.type).
    "monitoring-service-coverage": ("staging", _unmonitored),
    "monitoring-storage-retained": ("prod", set_at("monitoring.protect", False)),
}


@pytest.mark.parametrize("policy", sorted(WEAKENED))
def test_weakened_stack_config_fires_the_policy(policy: str, pack: RunningPack) -> None:
    stack, mutate = WEAKENED[policy]
    document = copy.deepcopy(load_stack(stack))
    mutate(document["config"])
    result, stack_file = synth(stack, document)
    report = analyze(
        pack,
        stack,
        result.resources,
        _policy_config(stack),
        stack_file.config,
        stack_file.secret_keys,
    )
    assert policy in {v.policy for v in report.violations}, report.violations
    for violation in report.violations:
        assert "Fix: " in violation.message, violation
        assert violation.severity in {"low", "medium", "high", "critical"}


def test_a_mandatory_violation_fails_the_check_command(mutated_stack: Callable[..., Path]) -> None:
    _, mutate = WEAKENED["k8s-production-high-availability"]
    code, report = _check("--stack", "prod", "--config-file", mutated_stack(mutate))
    assert code == 1
    mandatory = {v["policy"] for v in report["violations"] if v["enforcement"] == "mandatory"}
    assert mandatory == {"k8s-production-high-availability"}


# ---- cases no stack config can produce: real resources, altered before the pack sees them ----


def _altered(
    result: SynthResult, kind: str, change: Callable[[dict[str, Any], dict[str, Any]], None]
) -> SynthResult:
    """`result` with `change` applied to every resource of `kind`."""
    altered = copy.deepcopy(result)
    matched = [r for r in altered.resources if r.type == kind]
    assert matched, kind
    for r in matched:
        change(r.inputs, r.options)
        r.raw = struct_of(r.inputs)
    return altered


def _run(pack: RunningPack, result: SynthResult) -> CheckResult:
    return analyze(pack, result.stack, result.resources, _policy_config(result.stack), {}, [])


def _container(inputs: dict[str, Any]) -> dict[str, Any]:
    return inputs["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
REPOSITORY = "github:index/repository:Repository"


def _rules(i: dict[str, Any]) -> dict[str, Any]:
    return i["rules"]  # type: ignore[no-any-return]


ALTERED: dict[str, tuple[str, Callable[[dict[str, Any], dict[str, Any]], None]]] = {
    # The security floor refuses these as config (tests/test_floor.py); the pack still guards
    # them for programs or providers that would produce them.
    "github-ruleset-reviews": (
        RULESET,
        lambda i, o: _rules(i)["pullRequest"].update(requiredApprovingReviewCount=1),
    ),
    "github-ruleset-history": (RULESET, lambda i, o: _rules(i).update(nonFastForward=False)),
    "github-ruleset-required-checks": (
        RULESET,
        lambda i, o: _rules(i)["requiredStatusChecks"].update(requiredChecks=[]),
    ),
    "github-ruleset-no-standing-bypass": (
        RULESET,
        lambda i, o: i.update(
            bypassActors=[{"actorType": "RepositoryRole", "actorId": 5, "bypassMode": "exempt"}]
        ),
    ),
    "github-default-branch-ruleset": (RULESET, lambda i, o: i.update(enforcement="disabled")),
    "github-secret-scanning": (
        REPOSITORY,
        lambda i, o: i["securityAndAnalysis"]["secretScanningPushProtection"].update(
            status="disabled"
        ),
    ),
    "github-dependabot-alerts": (
        "github:index/repositoryVulnerabilityAlerts:RepositoryVulnerabilityAlerts",
        lambda i, o: i.update(enabled=False),
    ),
    "github-workflow-token-read-only": (
        "github:index/workflowRepositoryPermissions:WorkflowRepositoryPermissions",
        lambda i, o: i.update(defaultWorkflowPermissions="write"),
    ),
    "github-repository-protected": (
        REPOSITORY,
        lambda i, o: o.pop("protect"),
    ),
    "github-actions-pinned-by-sha": (
        "github:index/repositoryFile:RepositoryFile",
        lambda i, o: i.update(
            file=".github/workflows/x.yml",
            content="jobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n",
        ),
    ),
    "k8s-pod-security-restricted": (
        ROLLOUT,
        lambda i, o: _container(i)["securityContext"].update(allowPrivilegeEscalation=True),
    ),
    "k8s-requests-and-limits": (
        ROLLOUT,
        lambda i, o: _container(i)["resources"].pop("limits"),
    ),
    "k8s-probes": (ROLLOUT, lambda i, o: _container(i).pop("readinessProbe")),
    "k8s-namespace-default-deny": (
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        lambda i, o: (
            i["spec"].update(policyTypes=["Ingress"])
            if i["metadata"]["name"] == "default-deny"
            else None
        ),
    ),
    "k8s-service-selects-workload": (
        "kubernetes:core/v1:Service",
        lambda i, o: i["spec"]["selector"].update({"tbcoin.io/track": "purple"}),
    ),
    "k8s-shared-with-controllers": (
        "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
        lambda i, o: o.pop("ignoreChanges", None),
    ),
    "k8s-canary-weights": (
        "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
        lambda i, o: i["spec"]["rules"][0]["backendRefs"][-1].update(weight=60),
    ),
    "monitoring-no-credentials-in-helm-values": (
        "kubernetes:helm.sh/v3:Release",
        lambda i, o: i.setdefault("values", {}).update(grafana={"adminPassword": "hunter2"}),
    ),
    "k8s-helm-chart-pinned": (
        "kubernetes:helm.sh/v3:Release",
        lambda i, o: i.update(version="~1.7"),
    ),
}


@pytest.mark.parametrize("policy", sorted(ALTERED))
def test_altered_resources_fire_the_policy(policy: str, pack: RunningPack) -> None:
    kind, change = ALTERED[policy]
    baseline, _ = synth("prod")
    assert policy not in {v.policy for v in _run(pack, baseline).violations}
    fired = {v.policy for v in _run(pack, _altered(baseline, kind, change)).violations}
    assert policy in fired


def test_a_required_check_bound_to_no_app_fires_the_required_checks_policy(
    pack: RunningPack,
) -> None:
    """Any app, or anyone with a token, could satisfy an unbound check: the binding the program
    always writes is held by the pack too."""

    def unbind(i: dict[str, Any], o: dict[str, Any]) -> None:
        _rules(i)["requiredStatusChecks"]["requiredChecks"][1].pop("integrationId")

    baseline, _ = synth("prod")
    messages = [
        v.message
        for v in _run(pack, _altered(baseline, RULESET, unbind)).violations
        if v.policy == "github-ruleset-required-checks"
    ]
    assert len(messages) == 1
    assert "not bound to the app that reports them" in messages[0]
    assert "Code Quality" in messages[0]


ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"


def _canary_route_violations(
    pack: RunningPack, change: Callable[[dict[str, Any]], None]
) -> list[str]:
    def on_inference(i: dict[str, Any], o: dict[str, Any]) -> None:
        if i["metadata"]["name"] == "inference":
            change(i)

    baseline, _ = synth("prod")
    result = _run(pack, _altered(baseline, ROUTE, on_inference))
    return [v.message for v in result.violations if v.policy == "k8s-canary-weights"]


def test_the_canary_is_the_backend_its_route_names_not_a_name_suffix(pack: RunningPack) -> None:
    """A canary Service without the `-canary` suffix is still held to its maximum weight: the
    route names its canary backend (tbcoin.io/canary-service, written by the program from the
    same source as the Rollout's canaryService)."""

    def renamed(route: dict[str, Any]) -> None:
        route["metadata"]["annotations"]["tbcoin.io/canary-service"] = "inference-new"
        stable, canary = route["spec"]["rules"][0]["backendRefs"]
        stable.update(weight=40)
        canary.update(name="inference-new", weight=60)

    fired = _canary_route_violations(pack, renamed)
    assert len(fired) == 1 and "Rule 0 gives the canary 60%, above its maximum 50%." in fired[0]


@pytest.mark.parametrize(
    ("annotations", "weight"),
    [({"tbcoin.io/canary-max-weight": "50%"}, 0), ({"tbcoin.io/canary-service": None}, 0),
     ({}, "ten")],
)  # fmt: skip
def test_a_malformed_canary_route_is_a_violation_not_a_pack_crash(
    annotations: dict[str, Any], weight: Any, pack: RunningPack
) -> None:
    def malformed(route: dict[str, Any]) -> None:
        route["metadata"]["annotations"].update(annotations)
        route["spec"]["rules"][0]["backendRefs"][1]["weight"] = weight

    fired = _canary_route_violations(pack, malformed)
    assert fired and all("Fix: declare routes with explicit weights" in m for m in fired), fired


# The Rollout `api` as the provider's dry run of a release answered under the engine (make e2e,
# prod): the HPA had scaled it, so spec.replicas is live, owned by kube-controller-manager.
RELEASE_DRY_RUN = REPO / "tests" / "engine_outputs" / "recorded" / "rollouts"


def _shared_violations(pack: RunningPack, managed: list[dict[str, Any]] | None) -> set[str]:
    live = json.loads((RELEASE_DRY_RUN / "prod-api-release-dry-run.json").read_text())

    def scaled(i: dict[str, Any], o: dict[str, Any]) -> None:
        if i["metadata"]["name"] == "api":
            i["spec"]["replicas"] = live["spec"]["replicas"]
            if managed is not None:
                i["metadata"]["managedFields"] = managed

    baseline, _ = synth("prod")
    return {
        v.message
        for v in _run(pack, _altered(baseline, ROLLOUT, scaled)).violations
        if v.policy == "k8s-shared-with-controllers"
    }


def test_replicas_the_hpa_set_live_are_not_declared_ones(pack: RunningPack) -> None:
    live = json.loads((RELEASE_DRY_RUN / "prod-api-release-dry-run.json").read_text())
    managed = live["metadata"]["managedFields"]
    declared = "'api' declares replicas although an HPA scales it."
    assert not any(declared in m for m in _shared_violations(pack, managed))
    # The same object with replicas in Pulumi's own apply: declared, refused.
    ours = [
        {
            **e,
            "fieldsV1": {**e["fieldsV1"], "f:spec": {**e["fieldsV1"]["f:spec"], "f:replicas": {}}},
        }
        if e["manager"].startswith("pulumi-kubernetes")
        else e
        for e in managed
    ]
    assert any(declared in m for m in _shared_violations(pack, ours))
    # Offline (no managedFields): what is there is what the program set.
    assert any(declared in m for m in _shared_violations(pack, None))


def test_every_policy_has_a_firing_test() -> None:
    import sys

    sys.path.insert(0, str(POLICIES))
    from tbcoin_policies import CATALOGUE

    # policy-waivers fires in tests/test_waivers_pack.py (a malformed waivers file).
    assert set(CATALOGUE) == set(WEAKENED) | set(ALTERED) | {"policy-waivers"}


# ---- the pack as a process: crashes and hangs end cleanly ----


def _pack(tmp_path: Path, main: str) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "__main__.py").write_text(main)
    return pack


def _processes_running(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return [pid for pid in found if _alive(pid)]


def test_a_crashing_pack_is_a_clear_error(tmp_path: Path) -> None:
    pack = _pack(tmp_path, "raise RuntimeError('policy module exploded')\n")
    result, _ = synth("prod")
    with pytest.raises(PackError, match=r"(?s)exited .* before it served.*policy module exploded"):
        run_check(result, pack, None, {}, [], timeout=20)
    assert _processes_running(str(pack)) == []


def test_a_hanging_pack_times_out_and_is_killed(tmp_path: Path) -> None:
    pack = _pack(tmp_path, "import time\nwhile True:\n    time.sleep(1)\n")
    result, _ = synth("prod")
    with pytest.raises(PackError, match="did not announce its port in time"):
        run_check(result, pack, None, {}, [], timeout=2)
    assert _processes_running(str(pack)) == []


def test_bad_policy_config_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text(
        json.dumps(
            {"no-such-policy": "mandatory", "github-ruleset-reviews": {"requiredApprovals": "two"}}
        )
    )
    run = infractl("check", "--stack", "prod", "--policy-config", config)
    assert run.code == 2
    assert f"{config}: policy:no-such-policy: no such policy in the pack" in run.stderr
    assert (
        "policy:github-ruleset-reviews.requiredApprovals: 'two' is not of type 'integer'"
        in run.stderr
    )


def test_policy_catalogue_is_fresh() -> None:
    run = infractl("policies", "catalogue")
    assert run.code == 0
    assert (REPO / "docs/reference/policies.md").read_text() == run.stdout, (
        "docs/reference/policies.md is stale: run "
        "`infractl policies catalogue > docs/reference/policies.md`"
    )


def test_generated_policy_files_are_fresh() -> None:
    """Each stack's policy config carries the floor table's parameters and the repositories the
    other stacks govern; the pack's defaults are prod's floor (infra/config/floor.py)."""
    from infractl.policy.catalogue import generated_files

    for path, text in generated_files(REPO).items():
        assert path.read_text() == text, f"{path} is stale: run `infractl policies sync-config`"


def test_the_generated_files_follow_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """A minimum changed in the table alone leaves the generated files stale (so the freshness
    test above fails until `sync-config` writes the new value everywhere)."""
    from infra.config import floor
    from infractl.policy.catalogue import generated_files

    row = next(r for r in floor.TABLE if r.name == "high-availability")
    raised = dataclasses.replace(row, stacks={"prod": floor.at_least(3)})
    monkeypatch.setattr(floor, "TABLE", tuple(raised if r is row else r for r in floor.TABLE))
    stale = sorted(
        str(p.relative_to(REPO))
        for p, text in generated_files(REPO).items()
        if p.read_text() != text
    )
    assert stale == ["policies/config/prod.json", "policies/tbcoin_policies/defaults.json"]


def test_a_policy_the_floor_keeps_mandatory_cannot_be_turned_down(
    tmp_path: Path, pack: RunningPack
) -> None:
    from infra.config import ConfigError

    for stack, policy, level in (
        ("prod", "github-ruleset-reviews", "advisory"),
        ("prod", "k8s-production-high-availability", "disabled"),
        ("staging", "github-secret-scanning", "disabled"),
    ):
        config = json.loads((REPO / f"policies/config/{stack}.json").read_text())
        config[policy] = level
        path = tmp_path / f"{stack}.json"
        path.write_text(json.dumps(config))
        with pytest.raises(ConfigError) as caught:
            result, _ = synth(stack)
            analyze(pack, stack, result.resources, path, {}, [])
        assert f"policy:{policy}: is mandatory on stack '{stack}'" in caught.value.render()
        assert f"it cannot be {level}" in caught.value.render()


def test_the_report_names_the_policies_the_config_disabled(
    tmp_path: Path, pack: RunningPack
) -> None:
    from infractl.policy.report import json_report, markdown_report, text_report

    config = json.loads((REPO / "policies/config/staging.json").read_text())
    config["github-ruleset-reviews"] = "disabled"
    path = tmp_path / "staging.json"
    path.write_text(json.dumps(config))
    staging, _ = synth("staging")
    result = analyze(pack, "staging", staging.resources, path, {}, [])
    assert result.disabled == ["github-ruleset-reviews"]
    assert "disabled by the policy config: github-ruleset-reviews" in text_report(result)
    assert json.loads(json_report(result))["disabled"] == ["github-ruleset-reviews"]
    assert "Disabled by the policy config: `github-ruleset-reviews`." in markdown_report(result)
    assert _run(pack, staging).disabled == []


def _weakened_config(tmp_path: Path, stack: str, policy: str, change: dict[str, Any]) -> Path:
    config = json.loads(_policy_config(stack).read_text())
    entry = config.get(policy, {})
    entry = entry if isinstance(entry, dict) else {"enforcementLevel": entry}
    config[policy] = {k: v for k, v in {**entry, **change}.items() if v is not None}
    path = tmp_path / f"{stack}.json"
    path.write_text(json.dumps(config))
    return path


# Issue 24: a parameter that switches a mandatory policy off in effect is refused like a level.
PARAMETER_FLOORS = [
    ("prod", "github-ruleset-reviews", "requiredApprovals", 0, ">= 2 (got 0)"),
    ("prod", "github-ruleset-reviews", "requiredApprovals", 1, ">= 2 (got 1)"),
    ("staging", "github-ruleset-reviews", "requiredApprovals", 0, ">= 1 (got 0)"),
    ("prod", "github-ruleset-required-checks", "minRequiredChecks", 0, ">= 1 (got 0)"),
    ("staging", "github-ruleset-required-checks", "minRequiredChecks", 0, ">= 1 (got 0)"),
    ("prod", "k8s-images-pinned", "requireDigest", False, "must be true (got false)"),
    ("staging", "k8s-images-pinned", "requireDigest", False, "must be true (got false)"),
    ("prod", "k8s-production-high-availability", "minReplicas", 1, ">= 2 (got 1)"),
    ("prod", "monitoring-storage-retained", "requireRetention", False, "true (got false)"),
    # A check left out is a check no longer held; one at 0 is held to nothing.
    (
        "prod",
        "github-scorecard-floor",
        "minimums",
        {"Pinned-Dependencies": 9},
        '(got {"Pinned-Dependencies": 9})',
    ),
    (
        "prod",
        "github-scorecard-floor",
        "minimums",
        {
            "Branch-Protection": 0,
            "Token-Permissions": 10,
            "Dangerous-Workflow": 10,
            "Security-Policy": 10,
            "Dependency-Update-Tool": 10,
            "Pinned-Dependencies": 9,
        },
        '(got {"Branch-Protection": 0, "Token-Permissions": 10, "Dangerous-Workflow": 10, '
        '"Security-Policy": 10, "Dependency-Update-Tool": 10, "Pinned-Dependencies": 9})',
    ),
]


@pytest.mark.parametrize(
    ("stack", "policy", "parameter", "value", "expected"),
    PARAMETER_FLOORS,
    ids=[f"{s}-{p}-{v}" for s, _, p, v, _ in PARAMETER_FLOORS],
)
def test_a_policy_parameter_below_the_floor_exits_2(
    stack: str,
    policy: str,
    parameter: str,
    value: Any,
    expected: str,
    tmp_path: Path,
    synthesized: Callable[[str], Path],
) -> None:
    config = _weakened_config(tmp_path, stack, policy, {parameter: value})
    run = infractl(
        "check", "--stack", stack, "--from", synthesized(stack), "--policy-config", config
    )
    assert (run.code, run.stdout) == (2, ""), run
    assert run.stderr.startswith(
        f"{config}: policy:{policy}.{parameter}: below the security floor of stack '{stack}' "
        "(infra/config/floor.py): must be "
    )
    assert f"{expected}; " in run.stderr and run.stderr.count("\n") == 1  # then the reason


@pytest.mark.parametrize(("content", "why"), [("{}", "is empty"), (None, "file not found")])
def test_an_empty_or_missing_policy_config_exits_2(
    content: str | None, why: str, tmp_path: Path, synthesized: Callable[[str], Path]
) -> None:
    """Not the weakest defaults of every policy, silently."""
    config = tmp_path / "prod.json"
    if content is not None:
        config.write_text(content)
    run = infractl(
        "check", "--stack", "prod", "--from", synthesized("prod"), "--policy-config", config
    )
    assert (run.code, run.stdout) == (2, ""), run
    assert run.stderr.startswith(f"{config}: policy config: {why}"), run.stderr


# ---- values unknown in preview (the real engine sends them; offline nothing is unknown) ----

# What a first preview under the engine carries (tests/engine_outputs/recorded/*-preview.jsonl):
# a Release's `status` and a repository's computed ids are known only after `pulumi up`.
COMPUTED = {
    "kubernetes:helm.sh/v3:Release": {"status": UNKNOWN_OBJECT_VALUE},
    REPOSITORY: {k: UNKNOWN_STRING_VALUE for k in ("nodeId", "fullName", "etag", "repoId")},
}
CANT_RUN = "can't run policy"
UNKNOWN_OUTCOME = "Cannot be checked before apply"


def _with_unknowns(result: SynthResult, unknowns: dict[str, dict[str, Any]]) -> SynthResult:
    for kind, values in unknowns.items():
        result = _altered(result, kind, lambda i, o, values=values: i.update(values))
    return result


def test_values_the_policies_do_not_need_may_be_unknown(pack: RunningPack) -> None:
    """Every policy runs, stack policies included: none reads what it does not need."""
    baseline, _ = synth("prod")
    expected = _run(pack, baseline).violations
    found = _run(pack, _with_unknowns(baseline, COMPUTED)).violations
    assert not [v for v in found if CANT_RUN in v.message or UNKNOWN_OUTCOME in v.message]
    assert found == expected


def test_a_needed_value_unknown_in_preview_is_a_mandatory_violation(pack: RunningPack) -> None:
    """Not the SDK's silent advisory: the policy's own level, naming the resource and the path
    (and the unknown does reach the pack as unknown, so the test above can fail)."""
    baseline, _ = synth("prod")
    needed = {
        RULESET: {"enforcement": UNKNOWN_STRING_VALUE},
        ROLLOUT: {"spec": UNKNOWN_OBJECT_VALUE},
    }
    found = _run(pack, _with_unknowns(baseline, needed)).violations
    assert not [v for v in found if CANT_RUN in v.message]
    unknown = {(v.policy, v.urn.rsplit("::", 1)[0].rsplit("$", 1)[-1], v.enforcement)
               for v in found if UNKNOWN_OUTCOME in v.message}  # fmt: skip
    assert ("github-scorecard-floor", RULESET, "mandatory") in unknown  # a stack policy
    assert ("github-default-branch-ruleset", RULESET, "mandatory") in unknown
    assert ("k8s-pod-security-restricted", ROLLOUT, "mandatory") in unknown  # a resource policy
    message = next(v.message for v in found if v.policy == "github-scorecard-floor")
    assert "string value at `enforcement` can't be known during preview" in message


# ---- the config key a violation names ----


def _resolves(key: str) -> bool:
    """Whether `key` (placeholders for map keys) names a setting of the stack config model."""
    import typing

    from pydantic import BaseModel

    from infra.config.github import GitHubConfig, RepositorySettings
    from infra.config.model import StackConfig

    node: Any = StackConfig
    for segment in key.split("."):
        if segment.startswith("{"):
            args = typing.get_args(node)
            if typing.get_origin(node) is not dict or len(args) != 2:
                return False
            node = args[1]
            continue
        if not (isinstance(node, type) and issubclass(node, BaseModel)):
            return False
        fields = {f.alias or n: (n, f) for n, f in node.model_fields.items()}
        if segment not in fields:
            return False
        name, info = fields[segment]
        if (node, name) == (GitHubConfig, "repositories"):
            # Stored raw (defaults and groups are layered under it), read as RepositorySettings.
            node = dict[str, RepositorySettings]
            continue
        node = info.annotation
        while typing.get_origin(node) in (typing.Union, types.UnionType, typing.Annotated):
            node = next(a for a in typing.get_args(node) if a is not type(None))
    return True


def test_every_config_key_a_violation_names_is_a_setting_of_the_stack() -> None:
    """Keys are written once per policy; a renamed setting must not leave them pointing at
    nothing (mutation: a misspelt key is caught)."""
    import sys

    sys.path.insert(0, str(POLICIES))
    from tbcoin_policies import CATALOGUE

    keys = {name: entry["key"] for name, entry in CATALOGUE.items() if entry["key"]}
    assert len(keys) >= 20
    assert [name for name, key in keys.items() if not _resolves(key)] == []
    assert not _resolves("github.repositories.{repository}.branchRules.requiredApproval")
    assert not _resolves("services.{service}.replica")


def test_a_violation_names_its_config_key_and_whole_numbers(pack: RunningPack) -> None:
    baseline, _ = synth("prod")

    def single(i: dict[str, Any], o: dict[str, Any]) -> None:
        i["spec"]["minReplicas"] = 1

    found = _run(pack, _altered(baseline, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
                                single)).violations  # fmt: skip
    messages = [v.message for v in found if v.policy == "k8s-production-high-availability"]
    assert messages and all("runs 1 replica;" in m for m in messages), messages
    assert any(m.endswith("Config key: tbcoin-platform:services.api.replicas.") for m in messages)


# ---- the pack's cost: one conversion per request (policies/tbcoin_policies/conversion.py) ----


def _servicer_answers(stack: str, unknowns: dict[str, dict[str, Any]]) -> list[bytes]:
    """Every answer the pack gives a preview of `stack`, in-process: per resource Remediate
    and Analyze (as the engine calls them), then AnalyzeStack."""
    import sys

    sys.path.insert(0, str(POLICIES))
    from pulumi_policy import EnforcementLevel
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    from infractl.policy.config import configure_request, load_policy_config, merge_policy_config
    from infractl.policy.requests import analyze_requests, analyze_stack_request
    from tbcoin_policies import ALL_POLICIES, PACK_NAME

    result = _with_unknowns(synth(stack)[0], unknowns)
    servicer = _PolicyAnalyzerServicer(
        PACK_NAME, "0.0.1", ALL_POLICIES, EnforcementLevel.MANDATORY, None, "", None, None,
        None, None, None,
    )  # fmt: skip
    info = servicer.GetAnalyzerInfo(None, None)
    path = _policy_config(stack)
    settings = merge_policy_config(str(path), info, load_policy_config(path), stack)
    servicer.Configure(configure_request(settings), None)
    answers = []
    for request in analyze_requests(result.resources):
        answers.append(servicer.Remediate(request, None).SerializeToString(deterministic=True))
        answers.append(servicer.Analyze(request, None).SerializeToString(deterministic=True))
    stack_request = analyze_stack_request(result.resources)
    answers.append(servicer.AnalyzeStack(stack_request, None).SerializeToString(deterministic=True))
    return answers


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_converting_once_per_request_answers_as_the_sdk_does(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    sys.path.insert(0, str(POLICIES))
    from tbcoin_policies import conversion

    needed = {RULESET: {"enforcement": UNKNOWN_STRING_VALUE}, **COMPUTED}
    conversion.uninstall()
    monkeypatch.setenv("PULUMI_DRY_RUN", "true")
    sdk = _servicer_answers(stack, needed)
    conversion.install()
    try:
        shared = _servicer_answers(stack, needed)
    finally:
        conversion.uninstall()
    assert len(shared) == len(sdk) and shared == sdk
    assert any(b"Cannot be checked before apply" in a for a in sdk)  # the unknown reached it


def test_the_stack_request_carries_property_dependencies_as_the_engine_does() -> None:
    """The engine's AnalyzeStack request (pulumi pkg/resource/plugin/analyzer_plugin.go) names
    only properties that have dependencies; the SDK records every input property, in prod all
    with none. One resource is given a dependency: it is the only entry sent."""
    import dataclasses

    from infractl.policy.requests import analyze_stack_request

    resources = synth("prod")[0].resources
    assert any(r.property_dependencies for r in resources)
    first, second = resources[:2]
    edited = dataclasses.replace(first, property_dependencies={"name": [second.urn], "other": []})
    sent = {
        (item.urn, key, tuple(deps.urns))
        for item in analyze_stack_request([edited, *resources[1:]]).resources
        for key, deps in item.propertyDependencies.items()
    }
    assert sent == {(first.urn, "name", (second.urn,))}
