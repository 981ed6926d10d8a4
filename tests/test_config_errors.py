"""Bad stack config, tried as a new user would: exit 2, file and key named, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import infractl
from tests.conftest import set_at as _set


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda config: config.pop(f"tbcoin-platform:{key}")


def _add(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda config: config.__setitem__(key, value)


CASES = {
    "unknown key": (
        _set("kubernetes.flavour", "vanilla"),
        "tbcoin-platform:kubernetes.flavour: unknown key (known keys: context, replicas)",
    ),
    "typo of a real key": (
        _set("kubernetes.replica", 2),
        "tbcoin-platform:kubernetes.replica: unknown key; did you mean 'replicas'?",
    ),
    "typo of a section": (
        _add("tbcoin-platform:kubernets", {"replicas": 2}),
        "tbcoin-platform:kubernets: unknown key; did you mean 'kubernetes'?",
    ),
    "typo of the namespace": (
        _add("tbcoin-platfrom:kubernetes", {"replicas": 2}),
        "tbcoin-platfrom:kubernetes: unknown config namespace; did you mean "
        "'tbcoin-platform:kubernetes'?",
    ),
    "wrong type": (
        _set("kubernetes.replicas", "three"),
        "tbcoin-platform:kubernetes.replicas: must be an integer (got 'three')",
    ),
    "out-of-range number": (
        _set("kubernetes.replicas", 0),
        "tbcoin-platform:kubernetes.replicas: must be >= 1 (got 0)",
    ),
    "missing required section": (
        _drop("environments"),
        "tbcoin-platform:environments: required key is missing",
    ),
    "bad namespace name": (
        _set("environments.production.namespace", "Tbcoin_Prod"),
        "tbcoin-platform:environments.production.namespace: must be a DNS label",
    ),
    "unknown tier": (
        _set("environments.production.tier", "prod"),
        "tbcoin-platform:environments.production.tier: must be one of 'staging' or 'production'",
    ),
    "canary step weight above all traffic": (
        _set(
            "services.inference.strategy.steps",
            [{"weight": 0.05, "pause": "1m"}, {"weight": 120}],
        ),
        "tbcoin-platform:services.inference.strategy.steps[1].weight: must be <= 1 (got 120)",
    ),
    "canary step weight as a percentage": (
        _set("services.inference.strategy.steps", [{"weight": 5, "pause": "1m"}, {"weight": 0.5}]),
        "tbcoin-platform:services.inference.strategy.steps[0].weight: must be a ratio from 0 to "
        "1: 5% is 0.05",
    ),
    "canary step weight finer than a whole percent": (
        _set(
            "services.inference.strategy.steps",
            [{"weight": 0.055, "pause": "1m"}, {"weight": 0.5}],
        ),
        "tbcoin-platform:services.inference.strategy.steps[0].weight: must be a multiple of 0.01 "
        "(a whole percent, which Argo Rollouts and the autoscaler take); got 0.055",
    ),
    "canary steps not increasing": (
        _set(
            "services.inference.strategy.steps",
            [{"weight": 0.25, "pause": "1m"}, {"weight": 0.05}],
        ),
        "tbcoin-platform:services.inference.strategy.steps[1].weight: steps must strictly "
        "increase (got 0.05 after 0.25)",
    ),
    "canary step above maxWeight": (
        _set(
            "services.inference.strategy.steps",
            [{"weight": 0.05, "pause": "1m"}, {"weight": 0.8}],
        ),
        "tbcoin-platform:services.inference.strategy.steps[1].weight: above maxWeight 0.5",
    ),
    "pause that is not a duration": (
        _set(
            "services.inference.strategy.steps",
            [{"weight": 0.05, "pause": "ten minutes"}, {"weight": 0.5}],
        ),
        "tbcoin-platform:services.inference.strategy.steps[0].pause: must be a duration: an "
        "integer and a unit ms, s, m, h or d, such as 500ms, 30s, 10m, 7d (got 'ten minutes')",
    ),
    "pause finer than Argo Rollouts measures": (
        _set(
            "services.inference.strategy.steps",
            [{"weight": 0.05, "pause": "1500ms"}, {"weight": 0.5}],
        ),
        "tbcoin-platform:services.inference.strategy.steps[0].pause: must be a whole number of "
        "1s (got 1500ms)",
    ),
    "canary gate with a duration": (
        _set(
            "services.inference.strategy.steps",
            [{"weight": 0.05, "pause": "1m"}, {"weight": 0.5, "pause": "1m"}],
        ),
        "tbcoin-platform:services.inference.strategy.steps[1].pause: the last step is the human "
        "gate before full traffic: no duration",
    ),
    "analysis threshold out of range": (
        _set("services.inference.strategy.analysis.errorRatio", 1.5),
        "tbcoin-platform:services.inference.strategy.analysis.errorRatio: must be a ratio from 0 "
        "to 1: 1.5% is 0.015 (got 1.5)",
    ),
    "analysis interval not a duration": (
        _set("services.api.strategy.analysis.interval", "often"),
        "tbcoin-platform:services.api.strategy.analysis.interval: must be a duration",
    ),
    "timed promotion without a delay": (
        _set("services.api.strategy.promotion", {"mode": "timed"}),
        "tbcoin-platform:services.api.strategy.promotion.after: required when mode is 'timed'",
    ),
    "plugin image by tag": (
        _set(
            "rollouts.gatewayPluginImage",
            "ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi:v0.15.0",
        ),
        "tbcoin-platform:rollouts.gatewayPluginImage: must be an image pinned by digest: "
        "registry/repository@sha256:<64 hex digits>",
    ),
    "progressive service without the controller": (
        _drop("rollouts"),
        "tbcoin-platform:rollouts: required: service 'api' is released blueGreen through the "
        "Argo Rollouts controller",
    ),
    "unknown strategy": (
        _set("services.api.strategy.type", "recreate"),
        "tbcoin-platform:services.api.strategy: type must be one of 'rolling', 'blueGreen', "
        "'canary' (got 'recreate')",
    ),
    "promotion mode unknown": (
        _set("services.api.strategy.promotion", {"mode": "automatic"}),
        "tbcoin-platform:services.api.strategy.promotion.mode: must be one of 'manual' or "
        "'timed' (got 'automatic')",
    ),
    "typo inside a strategy": (
        _set("services.api.strategy.scaleDownDelays", "10m"),
        "tbcoin-platform:services.api.strategy.scaleDownDelays: unknown key; did you mean "
        "'scaleDownDelay'?",
    ),
    "prod image by tag": (
        _set("services.api.strategy.image", "1.4.2"),
        "tbcoin-platform:services.api.strategy.image: production images must be pinned by digest",
    ),
    "latest tag anywhere": (
        _set("services.inference.strategy.image", "latest"),
        "tbcoin-platform:services.inference.strategy.image: the mutable tag 'latest' is never "
        "deployed",
    ),
    "build without a build section": (
        _set("services.inference.strategy.image", "build"),
        "tbcoin-platform:services.inference.strategy.image: 'build' needs "
        "tbcoin-platform:app.build",
    ),
    "service replicas below 1": (
        _set("services.api.replicas", 0),
        "tbcoin-platform:services.api.replicas: must be >= 1 (got 0)",
    ),
    "service in an unknown environment": (
        _set("services.api.environment", "qa"),
        "tbcoin-platform:services.api.environment: no such environment (known: production)",
    ),
    "override of an unknown repository setting": (
        _set("github.repositories.tbcoin-engine-ml.mergeStrategy", "squash"),
        "tbcoin-platform:github.repositories.tbcoin-engine-ml.mergeStrategy: unknown key",
    ),
    "typo in a group's nested setting": (
        _set("github.groups.production-services.branchRules.requiredAprovals", 3),
        "tbcoin-platform:github.groups.production-services.branchRules.requiredAprovals: unknown "
        "key; did you mean 'requiredApprovals'?",
    ),
    "unknown group": (
        _set("github.repositories.tbcoin-engine-ml.groups", ["production"]),
        "tbcoin-platform:github.repositories.tbcoin-engine-ml.groups: no group 'production' in "
        "github.groups",
    ),
    "unknown dependabot ecosystem": (
        _set("github.defaults.dependabot", {"ecosystems": [{"ecosystem": "pipenv"}]}),
        "tbcoin-platform:github.defaults.dependabot.ecosystems[0].ecosystem: must be one of",
    ),
    "required check no job produces": (
        _set("github.defaults.branchRules.requiredChecks", ["Tests", "Lint"]),
        "tbcoin-platform:github.repositories.tbcoin-engine-ml.branchRules.requiredChecks: "
        "required check 'Lint' is reported by no job of a managed workflow",
    ),
    "required check of a Python version the matrix does not run": (
        _set("github.defaults.branchRules.requiredChecks", ["Tests (3.11)", "Tests (3.10)"]),
        "tbcoin-platform:github.repositories.tbcoin-engine-ml.branchRules.requiredChecks: "
        "required check 'Tests (3.10)' is reported by no job",
    ),
    "action pinned to a tag": (
        _set("github.actionPins.actions/checkout", {"sha": "v4", "version": "v4"}),
        "tbcoin-platform:github.actionPins.actions/checkout.sha: must be a full 40-character "
        "commit SHA, not a tag or branch (got 'v4')",
    ),
    "action without a pin": (
        lambda c: c["tbcoin-platform:github"]["actionPins"].pop("aquasecurity/trivy-action"),
        "tbcoin-platform:github.actionPins: no SHA pin for 'aquasecurity/trivy-action' (used by "
        ".github/workflows/docker-build.yml of tbcoin-engine-ml)",
    ),
    "node20 action without a reason to stay": (
        lambda c: c["tbcoin-platform:github"]["actionPins"]["actions/checkout"].pop("keepNode20"),
        "tbcoin-platform:github.actionPins.actions/checkout.keepNode20: "
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 runs on node20, which GitHub "
        "is retiring: pin a release on node24, or say here why this one stays",
    ),
    "private repository secret scanning without a licence": (
        _set("github.groups.production-services.security.secretProtectionLicensed", False),
        "tbcoin-platform:github.defaults.security.secretScanning: secret "
        "scanning needs GitHub Secret Protection on a private repository: set "
        "security.secretProtectionLicensed: true once the licence covers it, or set "
        "security.secretScanning: false",
    ),
    "required Dependency Review on a private repository without Code Security": (
        _set("github.groups.production-services.security.codeSecurityLicensed", False),
        "tbcoin-platform:github.repositories.tbcoin-engine-ml.branchRules.requiredChecks: "
        "required check 'Dependency Review' can never pass, which blocks every merge: dependency "
        "review needs GitHub Code Security on a private repository: set "
        "security.codeSecurityLicensed: true once the licence covers it, or remove 'Dependency "
        "Review' from branchRules.requiredChecks",
    ),
    "code scanning workflow on a private repository without Code Security": (
        _set("github.groups.production-services.security.codeSecurityLicensed", False),
        "tbcoin-platform:github.repositories.tbcoin-engine-ml.workflows.enabled: 'docker-build' "
        "uses code scanning (job 'build-and-scan'): code scanning needs GitHub Code Security on a "
        "private repository: set security.codeSecurityLicensed: true once the licence covers it, "
        "or drop 'docker-build' from workflows.enabled",
    ),
    "merge commits with linear history": (
        _set("github.defaults.merge", {"allowMergeCommit": True}),
        # Named where it was written, not on each repository that inherits it.
        "tbcoin-platform:github.defaults.merge.allowMergeCommit: merge "
        "commits break branchRules.linearHistory",
    ),
    "alert threshold of zero": (
        _set("monitoring.thresholds.latencyP95", "0s"),
        "tbcoin-platform:monitoring.thresholds.latencyP95: must be at least 10ms, the app's "
        "smallest latency bucket",
    ),
    "negative error-rate threshold": (
        _set("monitoring.thresholds.errorRatio", -0.1),
        "tbcoin-platform:monitoring.thresholds.errorRatio: must be > 0 (got -0.1)",
    ),
    "SLO target of 1": (
        _set("monitoring.slo.availability", 1),
        "tbcoin-platform:monitoring.slo.availability: must be < 1 (got 1)",
    ),
    "SLO latency threshold off the histogram buckets": (
        _set("monitoring.slo.latencyThreshold", "300ms"),
        "tbcoin-platform:monitoring.slo.latencyThreshold: must be one of the app's histogram "
        "buckets 10ms, 25ms, 50ms, 75ms, 100ms, 250ms, 500ms, 750ms, 1s, 1500ms, 2s, 2500ms, "
        "3s, 3500ms, 4s, 4500ms, 5s, 7500ms, 10s, 30s, 1m (got 300ms)",
    ),
    "unknown receiver type": (
        _set(
            "monitoring.alerting.receivers",
            [{"name": "x", "type": "teams", "secret": {"fromEnv": "X"}}],
        ),
        "tbcoin-platform:monitoring.alerting.receivers[0].type: must be one of 'slack', "
        "'pagerduty' or 'webhook' (got 'teams')",
    ),
    "route to an unknown receiver": (
        _set("monitoring.alerting.routes", {"critical": "nobody"}),
        "tbcoin-platform:monitoring.alerting: route for 'critical' names unknown receiver 'nobody'",
    ),
    "chart version range": (
        _set("monitoring.chart.version", "^88.0.0"),
        "tbcoin-platform:monitoring.chart.version: must be an exact chart version",
    ),
    "plain-text credential": (
        _set("kubernetes.apiToken", "hunter2"),
        "tbcoin-platform:kubernetes.apiToken: looks like a credential in plain text; store it "
        "encrypted with `pulumi config set --secret",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_exits_2_naming_file_and_key(
    case: str, mutated_stack: Callable[..., Path], tmp_path: Path
) -> None:
    mutate, expected = CASES[case]
    stack_file = mutated_stack(mutate)
    out = tmp_path / "out"
    run = infractl("synth", "--stack", "prod", "--config-file", stack_file, "--out", out)
    assert run.code == 2, run
    assert f"{stack_file}: {expected}" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert not out.exists()


def test_every_problem_is_reported_at_once(
    mutated_stack: Callable[..., Path], tmp_path: Path
) -> None:
    def two_mistakes(config: dict[str, Any]) -> None:
        _set("kubernetes.replicas", 0)(config)
        _set("environments.production.tier", "qa")(config)

    run = infractl(
        "synth", "--stack", "prod", "--config-file", mutated_stack(two_mistakes),
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert run.code == 2
    assert len(run.stderr.strip().splitlines()) == 2, run.stderr


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "Pulumi.broken.yaml"
    bad.write_text("config:\n  tbcoin-platform:kubernetes:\n    replicas: [1\n")
    run = infractl("synth", "--stack", "prod", "--config-file", bad, "--out", tmp_path / "out")
    assert run.code == 2
    assert f"{bad}: tbcoin-platform: not valid YAML: line 4" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_stack_lists_the_stacks_there(tmp_path: Path) -> None:
    run = infractl("synth", "--stack", "qa", "--out", tmp_path / "out")
    assert run.code == 2
    assert "no stack 'qa': Pulumi.qa.yaml not found (stacks here: prod, staging)" in run.stderr
    assert not (tmp_path / "out").exists()


def test_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    run = infractl("synth", "--stack", "prod", "--config-file", missing, "--out", tmp_path / "o")
    assert run.code == 2
    assert f"{missing}: tbcoin-platform: config file not found" in run.stderr


def test_bad_run_leaves_the_previous_output_untouched(
    mutated_stack: Callable[..., Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert infractl("synth", "--stack", "prod", "--out", out).code == 0
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    stack_file = mutated_stack(_set("kubernetes.replicas", 0))
    assert infractl("synth", "--stack", "prod", "--config-file", stack_file, "--out", out).code == 2
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_usage_error_exits_2() -> None:
    run = infractl("synth", "--out", "x")
    assert run.code == 2
    assert "--stack" in run.stderr
