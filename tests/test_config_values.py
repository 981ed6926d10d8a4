"""Values that make no sense are refused when the config is read (exit 2 in every command), not
by the API server halfway through an `up` or by a crash later."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import config_problems
from tests.conftest import set_at as _at

Mutation = Callable[[dict[str, Any]], None]


def _both(*mutations: Mutation) -> Mutation:
    def mutate(config: dict[str, Any]) -> None:
        for m in mutations:
            m(config)

    return mutate


GOV = "github.defaults"
REPO = "github.repositories.tbcoin-engine-ml"
PROD_ENV = {
    "namespace": "tbcoin-prod-2",
    "tier": "production",
    "hostname": "api.tbcoin.example.com",
}
LABEL = {"name": "Python", "color": "000000"}

REFUSED: dict[str, tuple[Mutation, str]] = {
    "request above limit": (
        _at("services.inference.resources.requests.cpu", "4"),
        "services.inference.resources.requests.cpu: 4 is above the limit 2",
    ),
    "memory request above limit": (
        _at("services.inference.resources.requests.memory", "3Gi"),
        "services.inference.resources.requests.memory: 3Gi is above the limit 2Gi",
    ),
    "container default request above limit": (
        _at(
            "environments.production.containerDefaults",
            {
                "requests": {"cpu": "1", "memory": "128Mi"},
                "limits": {"cpu": "500m", "memory": "1Gi"},
            },
        ),
        "environments.production.containerDefaults.requests.cpu: 1 is above the limit 500m",
    ),
    "hostname label over 63 characters": (
        _at("environments.production.hostname", "a" * 64 + ".example.com"),
        "environments.production.hostname: must be a lowercase DNS hostname, each label at most "
        "63 characters",
    ),
    "hostname over 253 characters": (
        _at("environments.production.hostname", ".".join(["a" * 60] * 5)),
        "environments.production.hostname: is too long",
    ),
    "repository named ..": (
        lambda c: c["tbcoin-platform:github"]["repositories"].update({"..": {}}),
        "github.repositories[\"..\"]: the key itself '..' is not a repository name",
    ),
    "default branch with ..": (
        _at(f"{REPO}.defaultBranch", "release..1"),
        f"{REPO}.defaultBranch: must be a git branch name",
    ),
    "managed-files branch with ..": (
        _at(f"{GOV}.managedFiles", {"branch": "a/../b"}),
        f"{GOV}.managedFiles.branch: must be a git branch name",
    ),
    "branch ending in .lock": (
        _at(f"{REPO}.defaultBranch", "main.lock"),
        f"{REPO}.defaultBranch: must be a git branch name",
    ),
    "duplicate labels (GitHub ignores case)": (
        lambda c: c["tbcoin-platform:github"]["defaults"]["labels"].append(LABEL),
        f"{GOV}.labels: label 'python' listed more than once",
    ),
    "a team listed twice": (
        lambda c: c["tbcoin-platform:github"]["defaults"]["teams"].append(
            {"team": "team-leads", "permission": "admin"}
        ),
        f"{GOV}.teams: team 'team-leads' listed more than once",
    ),
    "duplicate required checks": (
        _at(f"{GOV}.branchRules.requiredChecks", ["Tests", "Tests"]),
        f"{GOV}.branchRules.requiredChecks: check 'Tests' listed more than once",
    ),
    "duplicate environment reviewers": (
        _at(
            "github.groups.production-services.environments.production.reviewers",
            ["team-leads", "team-leads"],
        ),
        "github.groups.production-services.environments.production.reviewers: reviewer "
        "'team-leads' listed more than once",
    ),
    "duplicate alert receivers": (
        lambda c: c["tbcoin-platform:monitoring"]["alerting"]["receivers"].append(
            {"name": "oncall", "type": "webhook", "secret": {"fromEnv": "X"}}
        ),
        "monitoring.alerting.receivers: receiver 'oncall' listed more than once",
    ),
    "two environments with one hostname": (
        _at("environments.second", PROD_ENV),
        "environments.second.hostname: 'api.tbcoin.example.com' is already the hostname of "
        "environment 'production'",
    ),
    "monitoring namespace equal to an app namespace": (
        _at("monitoring.namespace", "tbcoin-prod"),
        "monitoring.namespace: namespace 'tbcoin-prod' is already "
        "tbcoin-platform:environments.production.namespace; each needs a namespace of its own",
    ),
    "gateway data plane in an app namespace": (
        _at("gateway.dataPlaneNamespace", "tbcoin-prod"),
        "gateway.dataPlaneNamespace: namespace 'tbcoin-prod' is already "
        "tbcoin-platform:environments.production.namespace",
    ),
    "gateway data plane in the monitoring namespace": (
        _both(
            _at("gateway.dataPlaneNamespace", "monitoring"),
            _at("gateway.install.namespace", "monitoring"),
        ),
        "gateway.dataPlaneNamespace: namespace 'monitoring' is already "
        "tbcoin-platform:monitoring.namespace",
    ),
    # Issue 24: these rendered two objects to one file (`--out`: ValueError; `check` passed).
    "rollouts controller in the monitoring namespace": (
        _at("rollouts.namespace", "monitoring"),
        "rollouts.namespace: namespace 'monitoring' is already "
        "tbcoin-platform:monitoring.namespace",
    ),
    "rollouts controller in an app namespace": (
        _at("rollouts.namespace", "tbcoin-prod"),
        "rollouts.namespace: namespace 'tbcoin-prod' is already "
        "tbcoin-platform:environments.production.namespace",
    ),
    **{
        f"{key} in {system}": (
            _at(key, system),
            f"{key}: '{system}' is a namespace of the cluster itself; a default-deny policy "
            "there would cut off cluster DNS",
        )
        for key, system in [
            ("environments.production.namespace", "kube-system"),
            ("environments.production.namespace", "default"),
            ("monitoring.namespace", "kube-public"),
            ("rollouts.namespace", "kube-system"),
            ("gateway.dataPlaneNamespace", "kube-node-lease"),
        ]
    },
    **{
        f"fromEnv {name}": (
            _at("monitoring.grafanaAdmin", {"fromEnv": name}),
            f"monitoring.grafanaAdmin.fromEnv: must not be {name}, a credential of the engine",
        )
        for name in ("PULUMI_CONFIG_PASSPHRASE", "GITHUB_TOKEN", "PULUMI_ACCESS_TOKEN", "GH_TOKEN")
    },
    # Issue 24: monitoring, analyses and releases that cannot work as configured.
    "retention 0d": (
        _at("monitoring.prometheus.retention", "0d"),
        "monitoring.prometheus.retention: must be at least 6h (got 0d)",
    ),
    "retention 1s": (
        _at("monitoring.prometheus.retention", "1s"),
        "monitoring.prometheus.retention: must be at least 6h",
    ),
    "loki retention under a day": (
        _at("monitoring.loki.retention", "1h"),
        "monitoring.loki.retention: must be at least 1d (got 1h)",
    ),
    "p95 threshold no quantile reaches": (
        _at("monitoring.thresholds.latencyP95", "61s"),
        "monitoring.thresholds.latencyP95: must be below 1m, the app's largest latency bucket",
    ),
    "p99 threshold at the top bucket": (
        _at("monitoring.thresholds.latencyP99", "60s"),
        "monitoring.thresholds.latencyP99: must be below 1m",
    ),
    "availability SLO no burn can reach": (
        _at("monitoring.slo.availability", 0.9),
        "monitoring.slo.availability: must be above 0.9306: with an error budget of 0.1 the fast "
        "burn-rate alert",
    ),
    "latency SLO no burn can reach": (
        _at("monitoring.slo.latency", 0.5),
        "monitoring.slo.latency: must be above 0.9306",
    ),
    "no alert route in prod": (
        _both(
            _at("monitoring.alerting.routes", {}), _at("monitoring.alerting.defaultReceiver", None)
        ),
        "monitoring.alerting: a production stack must send its alerts somewhere: set "
        "defaultReceiver",
    ),
    "canary at 100 before the gate": (
        _both(
            _at("services.inference.strategy.maxWeight", 1),
            _at(
                "services.inference.strategy.steps",
                [{"weight": 0.1, "pause": "5m"}, {"weight": 1}],
            ),
        ),
        "services.inference.strategy.maxWeight: must be below 1: at 1 the canary takes all "
        "traffic before the human gate",
    ),
    "analysis p95 limit no measurement exceeds": (
        _at("services.inference.strategy.analysis.latencyP95", "1m"),
        "services.inference.strategy.analysis.latencyP95: must be below 1m, the app's "
        "largest latency bucket",
    ),
    # A limit inside the smallest bucket is crossed by any traffic: the alert always fires, the
    # analysis always fails a healthy canary.
    "p95 threshold any traffic crosses": (
        _at("monitoring.thresholds.latencyP95", "5ms"),
        "monitoring.thresholds.latencyP95: must be at least 10ms, the app's smallest "
        "latency bucket",
    ),
    "analysis p95 limit any measurement exceeds": (
        _at("services.inference.strategy.analysis.latencyP95", "1ms"),
        "services.inference.strategy.analysis.latencyP95: must be at least 10ms",
    ),
    "analysis window with one scrape in it": (
        _both(
            _at("services.inference.strategy.analysis.window", "30s"),
            _at("services.inference.strategy.analysis.interval", "30s"),
        ),
        "services.inference.strategy.analysis.window: must be at least 1m: the app is scraped "
        "every 30s and rate() needs two samples in its window, so a shorter one never measures "
        "(got 30s)",
    ),
    "pod security pinned to an old version": (
        _at(
            "environments.production.labels",
            {"pod-security.kubernetes.io/enforce-version": "v1.20"},
        ),
        "environments.production.labels.pod-security.kubernetes.io/enforce-version: Pod Security "
        "admission labels are set by the program",
    ),
    "verified marketplace actions": (
        _at("github.defaults.actions", {"verifiedAllowed": True}),
        "github.defaults.actions.verifiedAllowed: must be false: Marketplace 'verified creator' "
        "actions would run beside the pinned allow-list",
    ),
    "replicas: true": (
        _at("kubernetes.replicas", True),
        "kubernetes.replicas: must be an integer (got True)",
    ),
    "replicas as a string": (
        _at("services.api.replicas", "3"),
        "services.api.replicas: must be an integer (got '3')",
    ),
    "a flag as a string": (
        _at("monitoring.protect", "yes"),
        "monitoring.protect: must be true or false (got 'yes')",
    ),
    "a ratio as a boolean": (
        _at("monitoring.slo.availability", True),
        "monitoring.slo.availability: must be a number (got True)",
    ),
    "two services on one path": (
        _at("services.inference.pathPrefix", "/"),
        "services.inference.pathPrefix: service 'api' already routes '/' in environment "
        "'production'",
    ),
    # Issue 24: Gateway API's own rules for a PathPrefix, read from the vendored CRD.
    **{
        f"path prefix {value}": (
            _at("services.inference.pathPrefix", value),
            f"services.inference.pathPrefix: must be a path prefix Gateway API accepts: {why} "
            f"(got '{value}')",
        )
        for value, why in [
            ("/a//b", "must not contain '//'"),
            ("/v1/../admin", "must not contain '/../'"),
            ("/v1/./x", "must not contain '/./'"),
            ("/v1/..", "must not end with '/..'"),
            ("/v1/.", "must not end with '/.'"),
        ]
    },
    "two services on one path but for a trailing slash": (
        _both(_at("services.api.pathPrefix", "/v1"), _at("services.inference.pathPrefix", "/v1/")),
        "services.inference.pathPrefix: service 'api' already routes '/v1' in environment "
        "'production' (Gateway API ignores a trailing '/')",
    ),
    "rollback window too short to act in": (
        _at("services.api.strategy.scaleDownDelay", "5s"),
        "services.api.strategy.scaleDownDelay: must be at least 30s (got 5s)",
    ),
    "quota smaller than the services": (
        _at("environments.production.quota.cpu", "8"),
        "environments.production.quota.cpu: too small for the environment's services at their "
        "declared replicas (cpu limits add up to 16)",
    ),
    "pod quota smaller than the services": (
        _at("environments.production.quota.pods", 5),
        "environments.production.quota.pods: too small",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_nonsense_is_refused_naming_the_key(case: str, tmp_path: Path) -> None:
    mutate, expected = REFUSED[case]
    report = config_problems(mutate, tmp_path)
    assert f"Pulumi.prod.yaml: tbcoin-platform:{expected}" in report, report


def test_decimals_set_with_pulumi_config_set_path_are_numbers(
    mutated_stack: Callable[..., Path],
) -> None:
    from infra.stack import load_stack
    from infractl.stackfile import read_stack_file

    # `pulumi config set --path ... 0.995` stores the decimal as a string.
    path = mutated_stack(_at("monitoring.slo.availability", "0.995"))
    config = load_stack(path.name, read_stack_file(path).config, stack="prod")
    assert config.monitoring is not None
    availability = config.monitoring.slo.availability
    assert isinstance(availability, float) and availability == 0.995
