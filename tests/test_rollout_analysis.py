"""The Rollouts' AnalysisTemplates run against a real Prometheus server (Debian's, on a loopback
port, stopped afterwards) that scrapes metrics endpoints this test serves and evaluates the
stack's own recording rules: a healthy canary passes every measurement at the configured
thresholds, a failing one fails them, and no traffic is inconclusive (the rollout pauses)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.controlplane import free_port
from e2e.prometheus import Track, traffic
from infra.config.rollouts import Analysis
from tests.conftest import REPO, manifests

WINDOW = "10s"


def _promtool_dir() -> Path:
    promtool = os.environ.get("PROMTOOL") or str(REPO / ".tools/prometheus/usr/bin/promtool")
    return Path(promtool).resolve().parent


@pytest.fixture(scope="module")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory, synthesized: Callable[[str], Path]
) -> Iterator[tuple[str, dict[str, Track]]]:
    binary = _promtool_dir() / "prometheus"
    assert binary.exists(), f"{binary} missing: run `make tools`"
    # No errors at first: the budget gate reads these few seconds as the whole SLO window.
    tracks = {"stable": Track(0.0), "canary": Track(0.0)}
    folder = tmp_path_factory.mktemp("prometheus")
    # The stack's own recording rules: the canary-vs-stable metric reads them, as its alert does.
    rule = next(
        m for m in manifests(synthesized("prod"))
        if m["kind"] == "PrometheusRule" and m["metadata"]["name"] == "tbcoin-prod-inference"
    )  # fmt: skip
    for group in rule["spec"]["groups"]:
        group["interval"] = "1s"  # the test's clock, not the expressions, runs faster
    (folder / "rules.yml").write_text(yaml.safe_dump(rule["spec"]))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(folder / "rules.yml")],
        "scrape_configs": [
            {
                "job_name": "app",
                "static_configs": [
                    {
                        "targets": [f"127.0.0.1:{t.port}"],
                        "labels": {"namespace": "tbcoin-prod", "app": "inference", "track": name},
                    }
                    for name, t in tracks.items()
                ],
            }
        ],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    server = subprocess.Popen(
        [str(binary), f"--config.file={folder / 'prometheus.yml'}",
         f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        with traffic(tracks):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                        if response.status == 200:
                            break
                except OSError:
                    time.sleep(0.2)
            else:
                pytest.fail("prometheus did not become ready")
            yield url, tracks
    finally:
        server.terminate()
        server.wait(timeout=10)
        assert server.poll() is not None, "prometheus left running"


def _wait_for_samples(seconds: float = 12) -> None:
    time.sleep(seconds)


def _query(url: str, expr: str) -> list[float]:
    """An instant query as Argo's Prometheus provider makes it: the vector's values."""
    with urllib.request.urlopen(
        f"{url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", timeout=10
    ) as response:
        payload = json.load(response)
    assert payload["status"] == "success", payload
    return [float(sample["value"][1]) for sample in payload["data"]["result"]]


def _holds(condition: str, result: list[float]) -> bool:
    """Argo's conditions here use only `len`, indexing, comparisons and `&&`/`||`, which read the
    same in Python once the two operators are spelled out."""
    assert set(condition) <= set("lenrsut()[]0123456789.<>=&| "), condition
    python = condition.replace("&&", " and ").replace("||", " or ")
    return bool(eval(python, {"__builtins__": {}}, {"len": len, "result": result}))


def _phase(metric: dict[str, Any], result: list[float]) -> str:
    """Argo's outcome of one measurement: success, failure, or inconclusive (neither holds)."""
    if "failureCondition" in metric and _holds(metric["failureCondition"], result):
        return "Failed"
    if _holds(metric["successCondition"], result):
        return "Successful"
    return "Failed" if "failureCondition" not in metric else "Inconclusive"


def _measure(url: str, template: dict[str, Any], prometheus_url: str) -> dict[str, str]:
    phases = {}
    for metric in template["spec"]["metrics"]:
        provider = metric["provider"]["prometheus"]
        assert provider["address"] == prometheus_url
        phases[metric["name"]] = _phase(metric, _query(url, provider["query"]))
    return phases


def _template(synthesized: Callable[[str], Path], name: str) -> dict[str, Any]:
    return next(
        m for m in manifests(synthesized("prod"))
        if m["kind"] == "AnalysisTemplate" and m["metadata"]["name"] == name
    )  # fmt: skip


IN_CLUSTER = "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"


def test_healthy_canary_passes_and_failing_canary_fails(
    prometheus: tuple[str, dict[str, Track]], synthesized: Callable[[str], Path]
) -> None:
    url, tracks = prometheus
    template = _template(synthesized, "inference-canary")
    assert {m["name"] for m in template["spec"]["metrics"]} == {
        "error-ratio", "latency-p95", "availability-budget", "latency-budget",
        "error-ratio-vs-stable",
    }  # fmt: skip
    _wait_for_samples()
    healthy = _measure(url, template, IN_CLUSTER)
    assert set(healthy.values()) == {"Successful"}, healthy

    tracks["canary"].error_ratio = 0.25  # prod's errorRatio is 0.02
    _wait_for_samples()
    failing = _measure(url, template, IN_CLUSTER)
    assert failing["error-ratio"] == "Failed", failing
    assert failing["error-ratio-vs-stable"] == "Failed", failing
    assert failing["latency-p95"] == "Successful", failing  # still fast: only errors fail it
    # The service's window (these seconds) now holds far more than its 0.1% of 5xx: the
    # availability budget is overspent, and every release is held; the latency one is intact.
    assert failing["availability-budget"] == "Failed", failing
    assert failing["latency-budget"] == "Successful", failing
    tracks["canary"].error_ratio = 0.0


def test_a_preview_without_traffic_is_inconclusive(
    prometheus: tuple[str, dict[str, Track]], synthesized: Callable[[str], Path]
) -> None:
    """No requests reached the preview: Argo pauses rather than promote an untried version.
    A service no user called has spent no budget: the gate lets it through."""
    url, _ = prometheus
    phases = _measure(url, _template(synthesized, "api-preview"), IN_CLUSTER)
    assert phases == {
        "error-ratio": "Inconclusive",
        "latency-p95": "Inconclusive",
        "availability-budget": "Successful",
        "latency-budget": "Successful",
    }, phases


def test_conditions_follow_the_configured_thresholds(synthesized: Callable[[str], Path]) -> None:
    """The same measurement passes or fails on either side of prod's errorRatio (0.02)."""
    metric = next(
        m for m in _template(synthesized, "inference-canary")["spec"]["metrics"]
        if m["name"] == "error-ratio"
    )  # fmt: skip
    assert _phase(metric, [0.019]) == "Successful"
    assert _phase(metric, [0.021]) == "Failed"
    assert _phase(metric, []) == "Inconclusive"
    # The budget gate, at prod's budgetFloor (0.1): a budget below it holds the release.
    gate = next(
        m for m in _template(synthesized, "inference-canary")["spec"]["metrics"]
        if m["name"] == "availability-budget"
    )  # fmt: skip
    assert gate["failureLimit"] == 0
    assert _phase(gate, [0.099]) == "Failed"
    assert _phase(gate, [0.1]) == "Successful"
    assert _phase(gate, [-0.5]) == "Failed"
    assert _phase(gate, []) == "Successful"


def test_the_canary_is_measured_once_it_has_had_a_window_of_traffic(
    synthesized: Callable[[str], Path],
) -> None:
    """The canary's background analysis starts with the release, when the canary has no pod
    and so no series: measured at once it is inconclusive, and on the real controller that
    pause skips every later pause step (make e2e's canary). Its track's metrics wait one
    analysis window; the budget gate (the whole service's series) and the blue-green preview's
    analysis (started once the preview is up) measure at once."""
    window = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())["config"][
        "tbcoin-platform:services"
    ]["inference"]["strategy"]["analysis"].get("window", Analysis.model_fields["window"].default)
    delays = {
        m["name"]: m.get("initialDelay")
        for m in _template(synthesized, "inference-canary")["spec"]["metrics"]
    }
    assert delays == {
        "error-ratio": window,
        "latency-p95": window,
        "error-ratio-vs-stable": window,
        "availability-budget": None,
        "latency-budget": None,
    }
    preview = _template(synthesized, "api-preview")["spec"]["metrics"]
    assert all("initialDelay" not in m for m in preview)


RECORDED_RUNS = REPO / "tests" / "engine_outputs" / "recorded" / "rollouts"


@pytest.mark.parametrize("outcome", ["successful", "failed"])
def test_the_controller_judged_each_measurement_as_our_conditions_say(
    outcome: str, synthesized: Callable[[str], Path]
) -> None:
    """The pre-promotion AnalysisRuns the real controller ran under make e2e (prod's api; the
    failed one with the preview answering 50% 5xx): the run carries our template's metrics and
    conditions, and each recorded measurement's phase is what those conditions give for its
    value, the same evaluation the offline tests above rely on."""
    run = json.loads((RECORDED_RUNS / f"prod-api-analysisrun-{outcome}.json").read_text())
    template = {m["name"]: m for m in _template(synthesized, "api-preview")["spec"]["metrics"]}
    assert run["status"]["phase"] == outcome.capitalize()
    results = {r["name"]: r for r in run["status"]["metricResults"]}
    # Recorded before the budget gate existed; `make e2e --record` brings its metrics in.
    assert set(results) <= set(template)
    assert set(template) - set(results) <= {"availability-budget", "latency-budget"}
    for metric in run["spec"]["metrics"]:
        ours = template[metric["name"]]
        for key in ("successCondition", "failureCondition", "failureLimit"):
            assert metric.get(key) == ours.get(key), (metric["name"], key)
        measurements = results[metric["name"]]["measurements"]
        assert len(measurements) == metric["count"]
        for m in measurements:
            assert _phase(ours, json.loads(m["value"])) == m["phase"], (metric["name"], m)
    if outcome == "failed":
        assert results["error-ratio"]["phase"] == "Failed"
        assert results["latency-p95"]["phase"] == "Successful"  # only the errors failed it
