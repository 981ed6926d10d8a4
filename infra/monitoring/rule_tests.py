"""promtool unit tests for every alert of a service: each fires just past its threshold and stays
silent just below it (5% either side, or one step of a count or a duration).

The input series are built backwards from the thresholds in config, so the tests follow the
config: change a threshold and the tests move with it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from infra.config.monitoring import LATENCY_BUCKETS, MonitoringConfig
from infra.monitoring.rules import (
    FAST_BURN,
    SLOW_BURN,
    Alert,
    alerts,
    le,
)
from infra.monitoring.target import MonitoredService

ABOVE, BELOW = 1.05, 0.95
RATE = 600.0  # requests per minute in the generated traffic
MINUTES = 420  # 7h of samples: longer than the 6h burn window plus its `for`


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _counter(per_minute: float, minutes: int = MINUTES) -> str:
    return f"0+{per_minute:.10g}x{minutes}"


@dataclass
class Case:
    """One promtool test group: input series and whether the alert fires at `eval_time`."""

    name: str
    series: dict[str, str]
    eval_time: str
    fires: bool
    labels: dict[str, str] = field(default_factory=dict)


def _traffic(svc: MonitoredService, track: str, error_ratio: float) -> dict[str, str]:
    base = {"namespace": svc.namespace, "app": svc.name, "track": track}
    return {
        "http_requests_total" + _labels(**base, status="2xx"): _counter(RATE * (1 - error_ratio)),
        "http_requests_total" + _labels(**base, status="5xx"): _counter(RATE * error_ratio),
    }


def _histogram(svc: MonitoredService, track: str, cumulative: dict[float, float]) -> dict[str, str]:
    """Latency buckets with the given cumulative fraction at each boundary (+Inf is 1)."""
    base = {"namespace": svc.namespace, "app": svc.name, "track": track}
    series = {}
    for bound in LATENCY_BUCKETS:
        fraction = max((f for b, f in cumulative.items() if b <= bound), default=0.0)
        series["http_request_duration_highr_seconds_bucket" + _labels(**base, le=le(bound))] = (
            _counter(RATE * fraction)
        )
    series["http_request_duration_highr_seconds_bucket" + _labels(**base, le="+Inf")] = _counter(
        RATE
    )
    series["http_request_duration_highr_seconds_count" + _labels(**base)] = _counter(RATE)
    return series


def _quantile_at(q: float, value: float) -> dict[float, float]:
    """A distribution whose q-quantile, as histogram_quantile interpolates it, is `value`."""
    bounds = (0.0, *LATENCY_BUCKETS)
    lo, hi = next((a, b) for a, b in itertools.pairwise(bounds) if a < value <= b)
    r = (value - lo) / (hi - lo)
    if r <= q:  # mass at `lo` pushes the quantile up into the bucket
        return {lo: (q - r) / (1 - r), hi: 1.0} if lo else {hi: 1.0}
    return {hi: q / r}  # the rest lies beyond `hi`


def _ratio_cases(svc: MonitoredService, track: str, limit: float, eval_time: str) -> list[Case]:
    labels = {"namespace": svc.namespace, "app": svc.name, "track": track}
    return [
        Case("fires just above", _traffic(svc, track, limit * ABOVE), eval_time, True, labels),
        Case("silent just below", _traffic(svc, track, limit * BELOW), eval_time, False, labels),
    ]


def _spike(
    svc: MonitoredService, track: str, limit: float, quiet: int, loud: int
) -> dict[str, str]:
    """Errors only in the last `loud` minutes: the short window burns, the long one does not."""
    base = {"namespace": svc.namespace, "app": svc.name, "track": track}
    high = limit * ABOVE * 2
    errors = RATE * high
    return {
        "http_requests_total" + _labels(**base, status="2xx"): f"0+{RATE:g}x{quiet + loud}",
        "http_requests_total" + _labels(**base, status="5xx"): (
            f"0x{quiet} {errors:.10g}+{errors:.10g}x{loud - 1}"
        ),
    }


def _latency_miss(svc: MonitoredService, track: str, miss: float, slo_le: float) -> dict[str, str]:
    return _histogram(svc, track, {slo_le: 1 - miss})


def cases_for(alert: Alert, svc: MonitoredService, m: MonitoringConfig) -> list[Case]:
    t = m.thresholds
    track = svc.tracks[0]
    availability = 1 - m.slo.availability
    latency = 1 - m.slo.latency
    pod = f"{svc.workload}-5d9f7c6b8-x2x4q"
    pod_labels = {"namespace": svc.namespace, "pod": pod}
    container = {**pod_labels, "container": "app"}
    deployment = {"namespace": svc.namespace, "deployment": svc.workload}
    name = alert.name
    if name.startswith("AvailabilityErrorBudgetBurn") or name.startswith("LatencyErrorBudgetBurn"):
        fast = name.endswith("Fast")
        budget = availability if name.startswith("Availability") else latency
        limit = (FAST_BURN if fast else SLOW_BURN) * budget
        eval_time = "65m" if fast else "380m"
        labels = {"namespace": svc.namespace, "app": svc.name, "track": track}
        if name.startswith("Availability"):
            cases = _ratio_cases(svc, track, limit, eval_time)
            quiet, loud = (58, 7) if fast else (340, 40)
            cases.append(
                Case(
                    "silent on a short spike",
                    _spike(svc, track, limit, quiet, loud),
                    eval_time,
                    False,
                    labels,
                )
            )
            return cases
        slo_le = m.slo.latency_threshold_seconds
        return [
            Case("fires just above", _latency_miss(svc, track, limit * ABOVE, slo_le), eval_time,
                 True, labels),
            Case("silent just below", _latency_miss(svc, track, limit * BELOW, slo_le), eval_time,
                 False, labels),
        ]  # fmt: skip
    if name == "HighErrorRate":
        return _ratio_cases(svc, track, t.error_rate, "15m")
    if name in ("HighLatencyP95", "HighLatencyP99"):
        q, limit = (
            (0.95, t.latency_p95_seconds) if name.endswith("95") else (0.99, t.latency_p99_seconds)
        )
        labels = {"namespace": svc.namespace, "app": svc.name, "track": track}
        return [
            Case("fires just above", _histogram(svc, track, _quantile_at(q, limit * ABOVE)), "20m",
                 True, labels),
            Case("silent just below", _histogram(svc, track, _quantile_at(q, limit * BELOW)),
                 "20m", False, labels),
        ]  # fmt: skip
    if name == "CpuThrottled":

        def throttled(ratio: float) -> dict[str, str]:
            return {
                "container_cpu_cfs_periods_total" + _labels(**container): _counter(600),
                "container_cpu_cfs_throttled_periods_total" + _labels(**container): _counter(
                    600 * ratio
                ),
            }

        return [
            Case("fires just above", throttled(t.cpu_throttling * ABOVE), "25m", True, pod_labels),
            Case(
                "silent just below", throttled(t.cpu_throttling * BELOW), "25m", False, pod_labels
            ),
        ]
    if name == "MemoryNearLimit":
        limit_bytes = 1024**3

        def memory(ratio: float) -> dict[str, str]:
            return {
                "container_memory_working_set_bytes"
                + _labels(**container): f"{limit_bytes * ratio:.0f}x30",
                "kube_pod_container_resource_limits"
                + _labels(**container, resource="memory"): f"{limit_bytes}x30",
            }

        return [
            Case("fires just above", memory(t.memory_of_limit * ABOVE), "15m", True, pod_labels),
            Case("silent just below", memory(t.memory_of_limit * BELOW), "15m", False, pod_labels),
        ]
    if name == "FrequentRestarts":

        def restarts(count: int) -> dict[str, str]:
            return {
                "kube_pod_container_status_restarts_total"
                + _labels(**container): f"0x30 {count}x40"
            }

        n = t.restarts_per_hour
        return [
            Case("fires one restart past", restarts(n + 1), "70m", True, pod_labels),
            Case("silent at the threshold", restarts(n), "70m", False, pod_labels),
        ]
    if name == "CrashLooping":
        series = "kube_pod_container_status_waiting_reason" + _labels(
            **container, reason="CrashLoopBackOff"
        )
        return [
            Case("fires after 5m", {series: "1x20"}, "6m", True, pod_labels),
            Case("silent before 5m", {series: "0x2 1x20"}, "6m", False, pod_labels),
        ]
    if name == "DeploymentReplicasUnavailable":
        series = "kube_deployment_status_replicas_unavailable" + _labels(**deployment)
        return [
            Case("fires at one missing replica", {series: "1x20"}, "11m", True, deployment),
            Case("silent at none missing", {series: "0x20"}, "11m", False, deployment),
        ]
    if name == "RolloutStuck":
        series = "kube_deployment_status_condition" + _labels(
            **deployment, condition="Progressing", status="false"
        )
        return [
            Case("fires when not progressing", {series: "1x10"}, "6m", True,
                 {**deployment, "condition": "Progressing", "status": "false"}),
            Case("silent while progressing", {series: "0x10"}, "6m", False, deployment),
        ]  # fmt: skip
    rollout = {"namespace": svc.namespace, "name": svc.workload}
    if name in ("RolloutAborted", "RolloutDegraded"):
        phase, after = ("Abort", "2m") if name == "RolloutAborted" else ("Error", "6m")

        def info(value: str, phase: str = phase) -> dict[str, str]:
            labels = _labels(**rollout, strategy="canary", traffic_router="Plugin", phase=phase)
            return {"rollout_info" + labels: value}

        return [
            Case(f"fires in phase {phase}", info("1x10"), after, True, rollout),
            Case("silent while progressing", info("1x10", "Progressing"), after, False, rollout),
        ]
    if name == "RolloutReplicasUnavailable":
        series = "rollout_info_replicas_unavailable" + _labels(**rollout)
        return [
            Case("fires at one missing replica", {series: "1x20"}, "11m", True, rollout),
            Case("silent at none missing", {series: "0x20"}, "11m", False, rollout),
        ]
    if name == "AutoscalerAtMaximum":
        hpa = {"namespace": svc.namespace, "horizontalpodautoscaler": svc.autoscaled[0]}

        def at(current: int) -> dict[str, str]:
            return {
                "kube_horizontalpodautoscaler_status_current_replicas"
                + _labels(**hpa): f"{current}x20",
                "kube_horizontalpodautoscaler_spec_max_replicas" + _labels(**hpa): "10x20",
            }

        return [
            Case("fires at the maximum", at(10), "16m", True, hpa),
            Case("silent one below", at(9), "16m", False, hpa),
        ]
    if name == "CanaryErrorRateAboveStable":
        stable = max(t.canary_error_floor, 0.01)
        labels = {"namespace": svc.namespace, "app": svc.name, "track": "canary"}

        def split(canary: float, stable_ratio: float) -> dict[str, str]:
            return {**_traffic(svc, "stable", stable_ratio), **_traffic(svc, "canary", canary)}

        factor = t.canary_error_factor
        return [
            Case(
                "fires just above the factor",
                split(stable * factor * ABOVE, stable),
                "10m",
                True,
                labels,
            ),
            Case(
                "silent just below the factor",
                split(stable * factor * BELOW, stable),
                "10m",
                False,
                labels,
            ),
            Case(
                "silent under the floor",
                split(t.canary_error_floor * BELOW, 0.0),
                "10m",
                False,
                labels,
            ),
            Case(
                "fires over the floor",
                split(t.canary_error_floor * ABOVE, 0.0),
                "10m",
                True,
                labels,
            ),
        ]
    raise KeyError(f"no promtool cases for alert {name}")


def _render(template: str, labels: dict[str, str]) -> str:
    for key, value in labels.items():
        template = template.replace(f"{{{{ $labels.{key} }}}}", value)
    return template


def promtool_tests(svc: MonitoredService, m: MonitoringConfig, rule_file: str) -> dict[str, Any]:
    """The promtool test document for one service's rule file."""
    groups = []
    for alert in alerts(svc, m):
        rule = alert.rule(m.runbook_base_url, svc.name)
        for case in cases_for(alert, svc, m):
            expected: list[dict[str, Any]] = []
            if case.fires:
                labels = {**case.labels, **rule["labels"]}
                expected.append(
                    {
                        "exp_labels": labels,
                        "exp_annotations": {
                            k: _render(v, labels) for k, v in rule["annotations"].items()
                        },
                    }
                )
            groups.append(
                {
                    "name": f"{alert.name}: {case.name}",
                    "interval": "1m",
                    "input_series": [{"series": s, "values": v} for s, v in case.series.items()],
                    "alert_rule_test": [
                        {
                            "eval_time": case.eval_time,
                            "alertname": alert.name,
                            "exp_alerts": expected,
                        }
                    ],
                }
            )
    return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": groups}
