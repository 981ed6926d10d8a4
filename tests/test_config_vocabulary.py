"""One vocabulary (issue 30): durations in one grammar, fractions as ratios, sizes and CPU as
Kubernetes quantities, one name per concept, the same number rules for every numeric key. A stack
file of the old vocabulary is refused key by key, each line naming what replaced the key."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.config.base import as_duration, go_duration, seconds
from infra.config.errors import ConfigError
from infra.config.loader import validate_stack_config
from infra.config.monitoring import prometheus_size
from infra.stack import load_stack as load_config
from infractl.stackfile import read_stack_file
from tests.conftest import REPO, config_problems, infractl, load_stack, set_at, write_stack

OLD = REPO / "tests/golden/old-vocabulary"

# Every key of the old vocabulary in the two stack files, and the start of what it is told.
OLD_PROD = {
    "gateway.install.chart": "must be a chart {name, repository, version}; the chart's name goes "
    "in chart.name",
    "gateway.install.repository": "renamed to chart.repository",
    "gateway.install.version": "renamed to chart.version",
    "monitoring.chart.chart": "renamed to name",
    "monitoring.prometheusCpu": "renamed to prometheus.resources.requests.cpu",
    "monitoring.prometheusMemory": "renamed to prometheus.resources.requests.memory and "
    "prometheus.resources.limits.memory",
    "monitoring.retention": "renamed to prometheus.retention",
    "monitoring.retentionSize": "renamed to prometheus.retentionSize",
    "monitoring.storage": "renamed to prometheus.storage",
    "monitoring.slo.latencyThresholdSeconds": "renamed to latencyThreshold, a duration",
    "monitoring.thresholds.errorRate": "renamed to errorRatio",
    "monitoring.thresholds.latencyP95Seconds": "renamed to latencyP95, a duration",
    "monitoring.thresholds.latencyP99Seconds": "renamed to latencyP99, a duration",
    "rollouts.chartVersion": "renamed to chart.version",
    "services.api.autoscaling.targetCpuUtilization": "must be a ratio from 0 to 1: 70% is 0.7",
    "services.api.strategy.analysis.maxErrorRatio": "renamed to errorRatio",
    "services.api.strategy.analysis.maxP95Seconds": "renamed to latencyP95, a duration",
    "services.api.strategy.scaleDownDelaySeconds": "renamed to scaleDownDelay, a duration such "
    "as 10m",
    "services.inference.strategy.analysis.maxErrorRatio": "renamed to errorRatio",
    "services.inference.strategy.analysis.maxP95Seconds": "renamed to latencyP95, a duration",
    "services.inference.strategy.maxWeight": "must be a ratio from 0 to 1: 50% is 0.5",
    "services.inference.strategy.steps[0].weight": "must be a ratio from 0 to 1: 5% is 0.05",
    "services.inference.strategy.steps[1].weight": "must be a ratio from 0 to 1: 25% is 0.25",
    "services.inference.strategy.steps[2].weight": "must be a ratio from 0 to 1: 50% is 0.5",
}
OLD_STAGING = {
    "monitoring.chart.chart": "renamed to name",
    "monitoring.retention": "renamed to prometheus.retention",
    "monitoring.retentionSize": "renamed to prometheus.retentionSize",
    "monitoring.slo.latencyThresholdSeconds": "renamed to latencyThreshold",
    "monitoring.thresholds.errorRate": "renamed to errorRatio",
    "monitoring.thresholds.latencyP95Seconds": "renamed to latencyP95",
    "monitoring.thresholds.latencyP99Seconds": "renamed to latencyP99",
    "services.inference.strategy.analysis.maxErrorRatio": "renamed to errorRatio",
    "services.inference.strategy.analysis.maxP95Seconds": "renamed to latencyP95",
    "services.inference.strategy.maxWeight": "must be a ratio from 0 to 1: 50% is 0.5",
    "services.inference.strategy.steps[0].weight": "must be a ratio from 0 to 1: 10% is 0.1",
    "services.inference.strategy.steps[1].weight": "must be a ratio from 0 to 1: 50% is 0.5",
}


def _problems(path: Path) -> dict[str, str]:
    stack = read_stack_file(path)
    _, problems = validate_stack_config(stack.config)
    return {p.path: p.message for p in problems}


@pytest.mark.parametrize(("stack", "expected"), [("prod", OLD_PROD), ("staging", OLD_STAGING)])
def test_an_old_stack_file_is_refused_key_by_key(stack: str, expected: dict[str, str]) -> None:
    """Exactly the old keys are reported, one line each; no old key is silently accepted, and
    the new key it became is not reported missing besides."""
    found = _problems(OLD / f"Pulumi.{stack}.yaml")
    assert sorted(found) == sorted(expected)
    for key, start in expected.items():
        assert found[key].startswith(start), (key, found[key])


@pytest.mark.parametrize(
    ("where", "value", "key", "expected"),
    [
        (
            "github.defaults.securityPolicy.responseHours",
            48,
            "github.defaults.securityPolicy.responseHours",
            "renamed to responseTime, a duration in whole hours such as 48h",
        ),
        (
            "github.groups.production-services.environments.production.waitTimerMinutes",
            30,
            "github.groups.production-services.environments.production.waitTimerMinutes",
            "renamed to waitTimer, a duration in whole minutes such as 30m",
        ),
        (
            "environments.production.containerDefaults",
            {"cpuRequest": "100m"},
            "environments.production.containerDefaults.cpuRequest",
            "renamed to requests.cpu",
        ),
        (
            "services.api.strategy.promotion.afterSeconds",
            60,
            "services.api.strategy.promotion.afterSeconds",
            "renamed to after, a duration such as 10m",
        ),
    ],
)
def test_an_old_key_names_the_new_one(
    where: str, value: Any, key: str, expected: str, tmp_path: Path
) -> None:
    report = config_problems(set_at(where, value), tmp_path)
    assert report.endswith(f"tbcoin-platform:{key}: {expected}"), report
    assert report.count("\n") == 0, report  # one line


def test_an_old_policy_parameter_names_the_new_one(tmp_path: Path) -> None:
    config = json.loads((REPO / "policies/config/prod.json").read_text())
    config["github-ruleset-reviews"] = {"minApprovals": 2}
    path = tmp_path / "prod.json"
    path.write_text(json.dumps(config))
    run = infractl("check", "--stack", "prod", "--policy-config", path)
    assert run.code == 2, run.stderr
    assert run.stderr.startswith(
        f"{path}: policy:github-ruleset-reviews.minApprovals: renamed to requiredApprovals"
    ), run.stderr


# Old-style values under kept names: the unit the old vocabulary had, and what it is now.
OLD_VALUES = {
    "a retention in weeks": (
        "monitoring.prometheus.retention",
        "2w",
        "must be a duration: an integer and a unit ms, s, m, h or d, such as 500ms, 30s, 10m, "
        "7d: 2w is 14d",
    ),
    "a size in Prometheus' units": (
        "monitoring.prometheus.retentionSize",
        "90GB",
        "must be a Kubernetes quantity: 90GB in Prometheus' units (powers of 1024) is 90Gi",
    ),
    "a duration as a bare number": (
        "services.api.strategy.scaleDownDelay",
        600,
        "must be a duration: an integer and a unit ms, s, m, h or d, such as 500ms, 30s, 10m, "
        "7d; a bare number has no unit (got 600)",
    ),
    "a CPU target as a percentage": (
        "services.api.autoscaling.targetCpuUtilization",
        70,
        "must be a ratio from 0 to 1: 70% is 0.7",
    ),
    "a wait timer finer than GitHub takes": (
        "github.groups.production-services.environments.production.waitTimer",
        "90s",
        "must be a whole number of 1m (got 90s)",
    ),
}


@pytest.mark.parametrize("case", sorted(OLD_VALUES))
def test_an_old_value_under_a_kept_name_gets_a_hint(case: str, tmp_path: Path) -> None:
    key, value, expected = OLD_VALUES[case]
    report = config_problems(set_at(key, value), tmp_path)
    assert f"tbcoin-platform:{key}: {expected}" in report, report


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, (*path, i))
    else:
        yield path, node


def _replaced(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    node = changed["config"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return changed


def _load(document: dict[str, Any], folder: Path, stack: str) -> Any:
    path = write_stack(folder / f"Pulumi.{stack}.yaml", document)
    return load_config(path.name, read_stack_file(path).config, stack=stack)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_decimal_may_be_written_as_pulumi_writes_it(stack: str, tmp_path: Path) -> None:
    """`pulumi config set --path` stores a decimal as a string: every key that takes one takes
    the string alike (the defect: `analysis.maxErrorRatio: "0.02"` refused while
    `thresholds.errorRate: "0.02"` was accepted)."""
    document = load_stack(stack)
    expected = _load(document, tmp_path, stack)
    decimals = [(p, v) for p, v in _leaves(document["config"]) if isinstance(v, float)]
    assert len(decimals) >= 4  # the ratios and objectives of both sections at least
    for path, value in decimals:
        assert _load(_replaced(document, path, str(value)), tmp_path, stack) == expected, path


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_no_integer_takes_a_string_or_a_bool(stack: str, tmp_path: Path) -> None:
    """Pulumi writes integers typed, so an integer key keeps strict types: `"3"` and `true` are
    refused at every one, naming it."""
    document = load_stack(stack)
    integers = [
        (p, v)
        for p, v in _leaves(document["config"])
        if isinstance(v, int) and not isinstance(v, bool)
    ]
    assert len(integers) >= 5
    for path, value in integers:
        for wrong in (str(value), True):
            with pytest.raises(ConfigError, match="must be an integer"):
                _load(_replaced(document, path, wrong), tmp_path, stack)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # Beyond Python's own limit for reading an integer: was a traceback.
        ("9" * 5000, "an integer of 5000 digits"),
        # A quoted 400-digit decimal became inf as a float.
        (f'"{"1" * 400}"', "must be a number of at most 15 digits (got one of 400 digits)"),
        ("1" * 16, "must be a number of at most 15 digits (got one of 16 digits)"),
        (f'"0.{"1" * 20}"', "must be a number of at most 15 digits"),
        (".inf", "must be a finite number"),
        ("true", "must be a number (got True)"),
    ],
    ids=["5000-digit integer", "400-digit string", "16 digits", "long fraction", "inf", "bool"],
)
def test_a_number_beyond_any_setting_is_a_config_error(
    line: str, expected: str, tmp_path: Path
) -> None:
    text = (REPO / "Pulumi.prod.yaml").read_text()
    old = "      errorRatio: 0.02\n"
    assert old in text
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(text.replace(old, f"      errorRatio: {line}\n", 1))
    run = infractl("scorecard", "--stack", "prod", "--config-file", path)
    assert run.code == 2 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    assert expected in run.stderr, run.stderr


def test_a_number_beyond_any_setting_from_the_engine_is_refused() -> None:
    """The engine hands structured config as JSON: a huge or non-finite number there is refused
    at its key too."""
    stack = read_stack_file(REPO / "Pulumi.prod.yaml")
    flat = dict(stack.config)
    monitoring = json.loads(flat["tbcoin-platform:monitoring"])
    for wrong, words in (("1e400", "finite"), ("1" * 20, "at most 15 digits")):
        text = json.dumps(monitoring).replace('"errorRatio": 0.02', f'"errorRatio": {wrong}')
        flat["tbcoin-platform:monitoring"] = text
        _, problems = validate_stack_config(flat)
        assert [p.path for p in problems] == ["monitoring.thresholds.errorRatio"], problems
        assert words in problems[0].message


@pytest.mark.parametrize(
    ("duration", "in_seconds", "go", "largest"),
    [
        ("500ms", "0.5", "500ms", "500ms"),
        ("90s", "90", "90s", "90s"),
        ("60s", "60", "60s", "1m"),
        ("10m", "600", "10m", "10m"),
        ("48h", "172800", "48h", "2d"),
        ("7d", "604800", "168h", "7d"),
    ],
)
def test_a_duration_in_each_consumers_form(
    duration: str, in_seconds: str, go: str, largest: str
) -> None:
    assert seconds(duration) == float(in_seconds)
    assert go_duration(duration) == go  # Argo Rollouts: Go's time.ParseDuration has no `d`
    assert as_duration(seconds(duration)) == largest


@pytest.mark.parametrize(
    ("quantity", "rendered"),
    [("90Gi", "90GB"), ("512Mi", "512MB"), ("1Ti", "1TB"), ("100G", "100000000000B")],
)
def test_a_size_in_prometheus_units(quantity: str, rendered: str) -> None:
    """Prometheus' retention.size units are powers of 1024 (its GB is a GiB); a decimal
    quantity is given in bytes."""
    assert prometheus_size(quantity) == rendered
