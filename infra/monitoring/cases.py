"""The promtool cases each alert states beside its definition (infra/monitoring/rules.py): input
series on which it fires just past its threshold and stays silent just below it (5% either side,
or one step of a count or a duration).

The series are built backwards from the thresholds in config, so the cases follow the config:
change a threshold and they move with it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from infra.config.monitoring import LATENCY_BUCKETS
from infra.monitoring.target import MonitoredService
from infra.release import CANARY, STABLE

ABOVE, BELOW = 1.05, 0.95
RATE = 600.0  # requests per minute in the generated traffic
MINUTES = 420  # 7h of samples: longer than the 6h burn window plus its `for`


@dataclass(frozen=True)
class Case:
    """One promtool test group: input series and whether the alert fires at `eval_time` (with
    `labels` besides the rule's own)."""

    name: str
    series: dict[str, str]
    eval_time: str
    fires: bool
    labels: dict[str, str] = field(default_factory=dict)


def le(seconds: float) -> str:
    """Bucket boundaries as the Python client writes them (0.5 -> "0.5", 1 -> "1.0")."""
    return repr(float(seconds))


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _counter(per_minute: float, minutes: int = MINUTES) -> str:
    return f"0+{per_minute:.10g}x{minutes}"


def _track(svc: MonitoredService, track: str | None = None) -> dict[str, str]:
    return {"namespace": svc.namespace, "app": svc.name, "track": track or svc.tracks[0]}


def _container(svc: MonitoredService) -> tuple[dict[str, str], dict[str, str]]:
    """(pod labels, container labels) of a pod of the service's workload."""
    pod = {"namespace": svc.namespace, "pod": f"{svc.workload}-5d9f7c6b8-x2x4q"}
    return pod, {**pod, "container": "app"}


def _deployment(svc: MonitoredService) -> dict[str, str]:
    return {"namespace": svc.namespace, "deployment": svc.workload}


def _traffic(svc: MonitoredService, track: str, error_ratio: float) -> dict[str, str]:
    base = _track(svc, track)
    return {
        "http_requests_total" + _labels(**base, status="2xx"): _counter(RATE * (1 - error_ratio)),
        "http_requests_total" + _labels(**base, status="5xx"): _counter(RATE * error_ratio),
    }


def _histogram(svc: MonitoredService, cumulative: dict[float, float]) -> dict[str, str]:
    """Latency buckets with the given cumulative fraction at each boundary (+Inf is 1)."""
    base = _track(svc)
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


def around(
    name: str, series: dict[bool, dict[str, str]], eval_time: str, labels: dict[str, str]
) -> tuple[Case, ...]:
    """The pair every alert has: fires on `series[True]`, stays silent on `series[False]`."""
    return (
        Case(f"fires {name}", series[True], eval_time, True, labels),
        Case(f"silent {name}", series[False], eval_time, False, labels),
    )


def error_ratio(svc: MonitoredService, limit: float, eval_time: str) -> tuple[Case, ...]:
    track = svc.tracks[0]
    series = {
        fires: _traffic(svc, track, limit * (ABOVE if fires else BELOW)) for fires in (True, False)
    }
    return around("around the error ratio", series, eval_time, _track(svc))


def availability_burn(svc: MonitoredService, limit: float, fast: bool) -> tuple[Case, ...]:
    """Both windows burning fires; a spike that only the short window sees stays silent."""
    eval_time = "65m" if fast else "380m"
    quiet, loud = (58, 7) if fast else (340, 40)
    errors = RATE * limit * ABOVE * 2
    base = _track(svc)
    spike = {
        "http_requests_total" + _labels(**base, status="2xx"): f"0+{RATE:g}x{quiet + loud}",
        "http_requests_total" + _labels(**base, status="5xx"): (
            f"0x{quiet} {errors:.10g}+{errors:.10g}x{loud - 1}"
        ),
    }
    return (
        *error_ratio(svc, limit, eval_time),
        Case("silent on a short spike", spike, eval_time, False, base),
    )


def latency_burn(
    svc: MonitoredService, limit: float, fast: bool, slo_le: float
) -> tuple[Case, ...]:
    series = {
        fires: _histogram(svc, {slo_le: 1 - limit * (ABOVE if fires else BELOW)})
        for fires in (True, False)
    }
    return around("around the budget", series, "65m" if fast else "380m", _track(svc))


def latency_quantile(svc: MonitoredService, q: float, limit: float) -> tuple[Case, ...]:
    series = {
        fires: _histogram(svc, _quantile_at(q, limit * (ABOVE if fires else BELOW)))
        for fires in (True, False)
    }
    return around("around the latency", series, "20m", _track(svc))


def cpu_throttling(svc: MonitoredService, ratio: float) -> tuple[Case, ...]:
    pod, container = _container(svc)

    def throttled(share: float) -> dict[str, str]:
        return {
            "container_cpu_cfs_periods_total" + _labels(**container): _counter(600),
            "container_cpu_cfs_throttled_periods_total" + _labels(**container): _counter(
                600 * share
            ),
        }

    series = {True: throttled(ratio * ABOVE), False: throttled(ratio * BELOW)}
    return around("around the throttled share", series, "25m", pod)


def memory_of_limit(svc: MonitoredService, ratio: float) -> tuple[Case, ...]:
    pod, container = _container(svc)
    limit_bytes = 1024**3

    def memory(share: float) -> dict[str, str]:
        return {
            "container_memory_working_set_bytes"
            + _labels(**container): f"{limit_bytes * share:.0f}x30",
            "kube_pod_container_resource_limits"
            + _labels(**container, resource="memory"): f"{limit_bytes}x30",
        }

    series = {True: memory(ratio * ABOVE), False: memory(ratio * BELOW)}
    return around("around the memory share", series, "15m", pod)


def restarts(svc: MonitoredService, per_hour: int) -> tuple[Case, ...]:
    pod, container = _container(svc)
    series = "kube_pod_container_status_restarts_total" + _labels(**container)
    return around(
        "one restart past / at the threshold",
        {True: {series: f"0x30 {per_hour + 1}x40"}, False: {series: f"0x30 {per_hour}x40"}},
        "70m",
        pod,
    )


def crash_looping(svc: MonitoredService) -> tuple[Case, ...]:
    pod, container = _container(svc)
    series = "kube_pod_container_status_waiting_reason" + _labels(
        **container, reason="CrashLoopBackOff"
    )
    return around(
        "after / before 5m", {True: {series: "1x20"}, False: {series: "0x2 1x20"}}, "6m", pod
    )


def replicas_unavailable(svc: MonitoredService) -> tuple[Case, ...]:
    deployment = _deployment(svc)
    series = "kube_deployment_status_replicas_unavailable" + _labels(**deployment)
    return around(
        "at one / no missing replica",
        {True: {series: "1x20"}, False: {series: "0x20"}},
        "11m",
        deployment,
    )


def rollout_stuck(svc: MonitoredService) -> tuple[Case, ...]:
    labels = {**_deployment(svc), "condition": "Progressing", "status": "false"}
    series = "kube_deployment_status_condition" + _labels(**labels)
    return around(
        "when not progressing / progressing",
        {True: {series: "1x10"}, False: {series: "0x10"}},
        "6m",
        labels,
    )


def rollout_phase(svc: MonitoredService, phase: str, after: str) -> tuple[Case, ...]:
    rollout = {"namespace": svc.namespace, "name": svc.workload}

    def info(at: str) -> dict[str, str]:
        labels = _labels(**rollout, strategy="canary", traffic_router="Plugin", phase=at)
        return {"rollout_info" + labels: "1x10"}

    return around(
        f"in phase {phase} / while progressing",
        {True: info(phase), False: info("Progressing")},
        after,
        rollout,
    )


def rollout_replicas_unavailable(svc: MonitoredService) -> tuple[Case, ...]:
    rollout = {"namespace": svc.namespace, "name": svc.workload}
    series = "rollout_info_replicas_unavailable" + _labels(**rollout)
    return around(
        "at one / no missing replica",
        {True: {series: "1x20"}, False: {series: "0x20"}},
        "11m",
        rollout,
    )


def autoscaler_at_maximum(svc: MonitoredService) -> tuple[Case, ...]:
    hpa = {"namespace": svc.namespace, "horizontalpodautoscaler": svc.autoscaled[0]}

    def at(current: int) -> dict[str, str]:
        return {
            "kube_horizontalpodautoscaler_status_current_replicas"
            + _labels(**hpa): f"{current}x20",
            "kube_horizontalpodautoscaler_spec_max_replicas" + _labels(**hpa): "10x20",
        }

    return around("at the maximum / one below", {True: at(10), False: at(9)}, "16m", hpa)


def canary_error_rate(svc: MonitoredService, factor: float, floor: float) -> tuple[Case, ...]:
    stable = max(floor, 0.01)
    labels = _track(svc, CANARY)

    def split(canary: float, stable_ratio: float) -> dict[str, str]:
        return {**_traffic(svc, STABLE, stable_ratio), **_traffic(svc, CANARY, canary)}

    return (
        *around(
            "around the factor",
            {
                True: split(stable * factor * ABOVE, stable),
                False: split(stable * factor * BELOW, stable),
            },
            "10m",
            labels,
        ),
        *around(
            "around the floor",
            {True: split(floor * ABOVE, 0.0), False: split(floor * BELOW, 0.0)},
            "10m",
            labels,
        ),
    )
