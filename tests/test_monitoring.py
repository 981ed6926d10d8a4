"""Monitoring: rule files pass promtool, every alert is proven to fire just past its threshold and
to stay silent just below it, dashboards are valid, and no credential reaches Helm values. What the
deployed charts do with all this: test_monitoring_deployed.py."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from infra.config.model import StackConfig
from infra.monitoring.cases import Case
from infra.monitoring.rules import Alert, alerts, prometheus_rule_spec, recording_rules
from infra.monitoring.stack_values import kube_prometheus_stack_values
from infra.monitoring.target import monitored_services
from infra.stack import load_stack
from infractl.stackfile import read_stack_file
from infractl.synth.promtool import promtool_tests
from tests.conftest import REPO, resources

STACKS = ["staging", "prod"]


def _promtool() -> str:
    path = os.environ.get("PROMTOOL") or str(REPO / ".tools/prometheus/usr/bin/promtool")
    assert Path(path).exists(), f"promtool not installed at {path}: run `make tools`"
    return str(Path(path).resolve())


def promtool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_promtool(), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def _config(stack: str) -> StackConfig:
    path = REPO / f"Pulumi.{stack}.yaml"
    return load_stack(path.name, read_stack_file(path).config, stack=stack)


@pytest.mark.parametrize("stack", STACKS)
def test_rule_files_pass_promtool_check(stack: str, synthesized: Callable[[str], Path]) -> None:
    rules = sorted((synthesized(stack) / "prometheus/rules").glob("*.yaml"))
    assert len(rules) == len(_config(stack).services)
    proc = promtool("check", "rules", *rules)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("stack", STACKS)
def test_every_alert_fires_past_and_stays_silent_below_its_threshold(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    tests = sorted((synthesized(stack) / "prometheus/tests").glob("*.test.yaml"))
    assert tests
    for test in tests:
        document = yaml.safe_load(test.read_text())
        outcomes: dict[str, set[bool]] = {}
        for group in document["tests"]:
            (case,) = group["alert_rule_test"]
            outcomes.setdefault(case["alertname"], set()).add(bool(case["exp_alerts"]))
        assert all(o == {True, False} for o in outcomes.values()), outcomes
        rules = yaml.safe_load((test.parent / document["rule_files"][0]).read_text())
        alert_names = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
        assert set(outcomes) == alert_names, "every alert has promtool cases"
    proc = promtool("test", "rules", *[t.name for t in tests], cwd=tests[0].parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_promtool_cases_are_sensitive_to_thresholds(tmp_path: Path) -> None:
    """Tests generated for one set of thresholds fail against rules built with another."""
    config = _config("prod")
    assert config.monitoring is not None
    svc = monitored_services(config)[0]
    stricter = config.monitoring.model_copy(
        update={
            "thresholds": config.monitoring.thresholds.model_copy(
                update={"error_ratio": config.monitoring.thresholds.error_ratio * 1.2}
            )
        }
    )
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(prometheus_rule_spec(svc, stricter)))
    tests = promtool_tests(svc, config.monitoring, "rules.yaml")
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(tests))
    proc = promtool("test", "rules", "t.yaml", cwd=tmp_path)
    assert proc.returncode != 0
    assert "HighErrorRate: fires around the error ratio" in proc.stdout + proc.stderr


def _alert_rules() -> Iterator[tuple[Alert, dict[str, Any]]]:
    """Every alert of every monitored service of both stacks, with the rule it renders."""
    for stack in STACKS:
        config = _config(stack)
        assert config.monitoring is not None
        for svc in monitored_services(config):
            for alert in alerts(svc, config.monitoring):
                yield alert, alert.rule(config.monitoring.runbook_base_url, svc.name)


def test_every_alert_is_labelled_and_documented() -> None:
    runbooks = (REPO / "docs/runbooks/alerts.md").read_text()
    for alert, rule in _alert_rules():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        anchor = rule["annotations"]["runbook_url"].split("#")[1]
        assert f"## {alert.name}" in runbooks and anchor == alert.name.lower()


def test_canary_and_burn_rate_alerts_exist_where_they_should() -> None:
    config = _config("prod")
    assert config.monitoring is not None
    names = {
        svc.name: {a.name for a in alerts(svc, config.monitoring)}
        for svc in monitored_services(config)
    }
    assert "CanaryErrorRateAboveStable" in names["inference"]
    assert "CanaryErrorRateAboveStable" not in names["api"]
    for burn in ("AvailabilityErrorBudgetBurnFast", "AvailabilityErrorBudgetBurnSlow",
                 "LatencyErrorBudgetBurnFast", "LatencyErrorBudgetBurnSlow"):  # fmt: skip
        assert burn in names["api"]
    records = {
        r["record"] for r in recording_rules(monitored_services(config)[0], config.monitoring)
    }
    assert "app_track:http_error_ratio:rate1h" in records


@pytest.mark.parametrize("stack", STACKS)
def test_dashboards_are_valid(stack: str, synthesized: Callable[[str], Path]) -> None:
    config = _config(stack)
    boards = sorted((synthesized(stack) / "grafana/dashboards").glob("*.json"))
    assert len(boards) == len(config.services)
    for path in boards:
        data = json.loads(path.read_text())
        decoded = Dashboard.from_json(copy.deepcopy(data))
        again = json.loads(JSONEncoder(sort_keys=True).encode(decoded))
        assert again == data, "the SDK's schema round-trips it"
        panels = [p for p in data["panels"] if p["type"] == "timeseries"]
        assert len(panels) >= 6
        for panel in panels:
            assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}
            assert all(target["refId"] for target in panel["targets"])


# ---- secrets and pins ----

SECRET_KEY = re.compile(r"(password|passwd|token|secret|api_?key|webhook|routing_?key)$", re.I)
REFERENCE_KEY = re.compile(r"(existingSecret|Key|_file|secrets)$")


def _plain_secrets(node: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, str) and SECRET_KEY.search(k) and not REFERENCE_KEY.search(k):
                found.append(f"{path}.{k}")
            found += _plain_secrets(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _plain_secrets(v, f"{path}[{i}]")
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_helm_values_hold_no_credentials_and_charts_are_pinned(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    releases = [
        r for r in resources(synthesized(stack)) if r["type"] == "kubernetes:helm.sh/v3:Release"
    ]
    assert any(r["inputs"]["name"] == "kube-prometheus-stack" for r in releases)
    for release in releases:
        assert re.match(r"^v?\d+\.\d+\.\d+$", release["inputs"]["version"]), release["inputs"]
        assert _plain_secrets(release["inputs"].get("values", {})) == []
    kps = next(r for r in releases if r["inputs"]["name"] == "kube-prometheus-stack")
    grafana = kps["inputs"]["values"]["grafana"]
    assert grafana["admin"]["existingSecret"] == "grafana-admin"
    assert "adminPassword" not in grafana


def test_the_credential_scan_is_not_vacuous() -> None:
    assert _plain_secrets({"grafana": {"adminPassword": "hunter2"}}) == [".grafana.adminPassword"]
    assert _plain_secrets({"x": {"api_url_file": "/etc/x", "existingSecret": "s"}}) == []


def test_grafana_and_receiver_credentials_are_kubernetes_secrets(
    synthesized: Callable[[str], Path],
) -> None:
    secrets = {
        r["inputs"]["metadata"]["name"]: r
        for r in resources(synthesized("prod"))
        if r["type"] == "kubernetes:core/v1:Secret"
    }
    assert set(secrets) == {"grafana-admin", "alertmanager-receivers"}
    for secret in secrets.values():
        assert secret["inputs"]["stringData"] == "[secret]"
    values = kube_prometheus_stack_values(_config("prod").monitoring)  # type: ignore[arg-type]
    receivers = {r["name"]: r for r in values["alertmanager"]["config"]["receivers"]}
    assert receivers["team-slack"]["slack_configs"][0]["api_url_file"].endswith("/team-slack")
    assert receivers["oncall"]["pagerduty_configs"][0]["routing_key_file"].endswith("/oncall")


def test_prod_metrics_history_is_kept(synthesized: Callable[[str], Path]) -> None:
    kps = next(
        r
        for r in resources(synthesized("prod"))
        if r["type"] == "kubernetes:helm.sh/v3:Release"
        and r["inputs"]["name"] == "kube-prometheus-stack"
    )
    assert kps["options"].get("protect") is True
    spec = kps["inputs"]["values"]["prometheus"]["prometheusSpec"]
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"]
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }


def test_an_alert_cannot_be_declared_without_firing_and_silent_cases() -> None:
    fields = {
        "name": "X", "expr": "up == 0", "for_": "5m", "severity": "warning",
        "summary": "s", "description": "d",
    }  # fmt: skip
    with pytest.raises(TypeError, match="cases"):
        Alert(**fields)  # type: ignore[call-arg]
    firing = Case("fires", {"up": "0x10"}, "6m", True)
    with pytest.raises(ValueError, match="X needs a firing and a silent"):
        Alert(**fields, cases=(firing,))
    assert Alert(**fields, cases=(firing, Case("silent", {"up": "1x10"}, "6m", False))).cases


def test_the_alert_table_of_the_docs_is_every_alert_with_its_severity() -> None:
    page = (REPO / "docs/reference/monitoring.md").read_text()
    section = page.split("\n## Alerts\n", 1)[1].split("\n## ", 1)[0]
    documented = dict(re.findall(r"^\| `(\w+)` \| (\w+) \|", section, re.M))
    defined = {alert.name: rule["labels"]["severity"] for alert, rule in _alert_rules()}
    assert documented == defined
