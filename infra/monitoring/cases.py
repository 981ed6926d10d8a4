"""The promtool cases each alert states beside its definition (infra/monitoring/rules.py): input
series on which it fires just past its threshold and stays silent just below it (5% either side,
or one step of a count or a duration).

The series are built backwards from the thresholds in config, so the cases follow the config:
change a threshold and they move with it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from infra.config.base import in_seconds
from infra.config.monitoring import LATENCY_BUCKETS, BurnTier, Slo
from infra.monitoring.target import MonitoredService
from infra.release import ACTIVE, CANARY, PREVIEW, STABLE

ABOVE, BELOW = 1.05, 0.95
RATE = 600.0  # requests per minute in the generated traffic
MINUTES = 420  # 7h of samples: longer than the 6h burn window plus its `for`
# Cases over days (ticket tiers, the SLO window) are sampled and evaluated less often: promtool
# evaluates every rule at every step up to the case's time. Each step leaves a few samples in
# the shortest window the case reads.
WINDOW_STEP = "1d"


@dataclass(frozen=True)
class Case:
    """One promtool test group: input series sampled every `step`, and whether the alert fires
    at `eval_time` (with `labels` besides the rule's own)."""

    name: str
    series: dict[str, str]
    eval_time: str
    fires: bool
    labels: dict[str, str] = field(default_factory=dict)
    step: str = "1m"


@dataclass(frozen=True)
class ExprCase:
    """One promtool test group for a recorded series: `expr` at `eval_time` returns one sample,
    labelled `labels`, of `value` (rounded to 1e-6 both sides: promtool compares floats
    exactly)."""

    name: str
    series: dict[str, str]
    eval_time: str
    expr: str
    labels: dict[str, str]
    value: float
    step: str


def le(seconds: float) -> str:
    """Bucket boundaries as the Python client writes them (0.5 -> "0.5", 1 -> "1.0")."""
    return repr(float(seconds))


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _counter(per_step: float, steps: int = MINUTES) -> str:
    return f"0+{per_step:.10g}x{steps}"


def _track(svc: MonitoredService, track: str | None = None) -> dict[str, str]:
    return {"namespace": svc.namespace, "app": svc.name, "track": track or svc.tracks[0]}


def _container(svc: MonitoredService) -> tuple[dict[str, str], dict[str, str]]:
    """(pod labels, container labels) of a pod of the service's workload."""
    pod = {"namespace": svc.namespace, "pod": f"{svc.workload}-5d9f7c6b8-x2x4q"}
    return pod, {**pod, "container": "app"}


def _deployment(svc: MonitoredService) -> dict[str, str]:
    return {"namespace": svc.namespace, "deployment": svc.workload}


def _traffic(
    svc: MonitoredService,
    track: str,
    error_ratio: float,
    per_step: float = RATE,
    steps: int = MINUTES,
) -> dict[str, str]:
    base = _track(svc, track)
    return {
        "http_requests_total" + _labels(**base, status="2xx"): _counter(
            per_step * (1 - error_ratio), steps
        ),
        "http_requests_total" + _labels(**base, status="5xx"): _counter(
            per_step * error_ratio, steps
        ),
    }


def _histogram(
    svc: MonitoredService,
    cumulative: dict[float, float],
    per_step: float = RATE,
    steps: int = MINUTES,
) -> dict[str, str]:
    """Latency buckets with the given cumulative fraction at each boundary (+Inf is 1)."""
    base = _track(svc)
    series = {}
    for bound in LATENCY_BUCKETS:
        fraction = max((f for b, f in cumulative.items() if b <= bound), default=0.0)
        series["http_request_duration_highr_seconds_bucket" + _labels(**base, le=le(bound))] = (
            _counter(per_step * fraction, steps)
        )
    total = _counter(per_step, steps)
    series["http_request_duration_highr_seconds_bucket" + _labels(**base, le="+Inf")] = total
    series["http_request_duration_highr_seconds_count" + _labels(**base)] = total
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
    name: str,
    series: dict[bool, dict[str, str]],
    eval_time: str,
    labels: dict[str, str],
    step: str = "1m",
) -> tuple[Case, ...]:
    """The pair every alert has: fires on `series[True]`, stays silent on `series[False]`."""
    return (
        Case(f"fires {name}", series[True], eval_time, True, labels, step),
        Case(f"silent {name}", series[False], eval_time, False, labels, step),
    )


def _minutes(duration: str) -> int:
    return int(in_seconds(duration) // 60)


def error_ratio(
    svc: MonitoredService, limit: float, eval_time: str, step: str = "1m"
) -> tuple[Case, ...]:
    track, every = svc.tracks[0], _minutes(step)
    series = {
        fires: _traffic(
            svc, track, limit * (ABOVE if fires else BELOW), RATE * every, MINUTES // every
        )
        for fires in (True, False)
    }
    return around("around the error ratio", series, eval_time, _track(svc), step)


def _page_step(tier: BurnTier) -> str:
    """The fast tier's 5m window needs a sample a minute; the slow tier's 30m does with one
    every 5 minutes, at a fifth of promtool's work."""
    return "1m" if _minutes(tier.short) <= 5 else "5m"


def _page_eval(tier: BurnTier) -> int:
    """Minutes into a case at which a page tier has seen its long window and its `for`."""
    return _minutes(tier.long) + _minutes(tier.for_) + 5


def availability_burn(
    svc: MonitoredService, tier: BurnTier, limit: float, slo: Slo
) -> tuple[Case, ...]:
    """Both windows burning fires; a spike that only the short window sees stays silent; page
    tiers wait for enough failures at night."""
    if not tier.page:
        return _days(
            svc,
            tier,
            limit,
            "availability",
            lambda share, per_step, steps: _traffic(svc, svc.tracks[0], share, per_step, steps),
        )
    step = _page_step(tier)
    every, eval_at = _minutes(step), _page_eval(tier)
    # The spike starts after a quiet long window and ends before the short window has passed.
    quiet, loud = (eval_at - _minutes(tier.short) // 2) // every, _minutes(tier.short) // 2 // every
    errors = RATE * every * limit * ABOVE * 2
    base = _track(svc)
    spike = {
        "http_requests_total" + _labels(**base, status="2xx"): f"0+{RATE * every:g}x{quiet + loud}",
        "http_requests_total" + _labels(**base, status="5xx"): (
            f"0x{quiet} {errors:.10g}+{errors:.10g}x{loud - 1}"
        ),
    }
    return (
        *error_ratio(svc, limit, f"{eval_at}m", step),
        Case("silent on a short spike", spike, f"{eval_at}m", False, base, step),
        *_night(svc, slo, limit, tier, _errors_of(svc)),
    )


def latency_burn(svc: MonitoredService, tier: BurnTier, limit: float, slo: Slo) -> tuple[Case, ...]:
    slo_le = in_seconds(slo.latency_threshold)
    if not tier.page:
        return _days(
            svc,
            tier,
            limit,
            "latency",
            lambda share, per_step, steps: _histogram(svc, {slo_le: 1 - share}, per_step, steps),
        )
    step = _page_step(tier)
    every = _minutes(step)
    series = {
        fires: _histogram(
            svc, {slo_le: 1 - limit * (ABOVE if fires else BELOW)}, RATE * every, MINUTES // every
        )
        for fires in (True, False)
    }
    return (
        *around("around the budget", series, f"{_page_eval(tier)}m", _track(svc), step),
        *_night(svc, slo, limit, tier, _slow_of(svc, slo_le)),
    )


def _night(
    svc: MonitoredService,
    slo: Slo,
    limit: float,
    tier: BurnTier,
    series_of: Callable[[list[float], list[float]], dict[str, str]],
) -> tuple[Case, ...]:
    """At night-time traffic: a few failures (one short of pageMinBadRequests, at once) do not
    page; an outage (every request failing) still does, once it has failed pageMinBadRequests
    requests and the tier's `for` has passed. `series_of` turns good and failed request counts,
    per step, into the SLO's series."""
    step = _page_step(tier)
    every = _minutes(step)
    # Requests a minute at which pageMinBadRequests - 1 failures are twice the tier's limit.
    per_minute = max(slo.page_min_bad_requests - 1, 1) / (2 * limit * _minutes(tier.long))
    rate = per_minute * every
    quiet = _minutes(tier.long) // every + 2
    # The few failures stay inside both windows until past the `for`.
    few_end = quiet + (_minutes(tier.for_) + 2 * every) // every
    few = series_of(
        [rate * i for i in range(few_end + 1)],
        [0.0 if i < quiet else slo.page_min_bad_requests - 1 for i in range(few_end + 1)],
    )
    # The outage lasts until pageMinBadRequests requests failed, then past the `for`.
    failing = math.ceil(slo.page_min_bad_requests / per_minute)
    outage_end = quiet + -(-(failing + _minutes(tier.for_) + 2 * every) // every)
    outage = series_of(
        [rate * min(i, quiet) for i in range(outage_end + 1)],
        [rate * max(i - quiet, 0) for i in range(outage_end + 1)],
    )
    base = _track(svc)
    return (
        Case("silent on a few failures at night", few, f"{few_end * every}m", False, base, step),
        Case("fires on an outage at night", outage, f"{outage_end * every}m", True, base, step),
    )


def _values(counts: list[float]) -> str:
    # Rounded, never re-derived: a counter promtool reads a hair lower is a reset.
    return " ".join(f"{round(v, 6):g}" if v == int(v) else repr(round(v, 6)) for v in counts)


def _errors_of(svc: MonitoredService) -> Callable[[list[float], list[float]], dict[str, str]]:
    def series(good: list[float], failed: list[float]) -> dict[str, str]:
        base = _track(svc)
        return {
            "http_requests_total" + _labels(**base, status="2xx"): _values(good),
            "http_requests_total" + _labels(**base, status="5xx"): _values(failed),
        }

    return series


def _slow_of(
    svc: MonitoredService, slo_le: float
) -> Callable[[list[float], list[float]], dict[str, str]]:
    """As _errors_of, the failures being requests slower than the latency threshold."""

    def series(fast: list[float], slow: list[float]) -> dict[str, str]:
        base = _track(svc)
        total = _values([f + s for f, s in zip(fast, slow, strict=True)])
        found = {}
        for bound in LATENCY_BUCKETS:
            key = "http_request_duration_highr_seconds_bucket" + _labels(**base, le=le(bound))
            found[key] = _values(fast) if bound <= slo_le else total
        found["http_request_duration_highr_seconds_bucket" + _labels(**base, le="+Inf")] = total
        found["http_request_duration_highr_seconds_count" + _labels(**base)] = total
        return found

    return series


def _days(
    svc: MonitoredService,
    tier: BurnTier,
    limit: float,
    kind: str,
    series_at: Callable[[float, float, int], dict[str, str]],
) -> tuple[Case, ...]:
    """A ticket tier over days, on the service's burn rate, sampled four times per short window:
    fires just past its limit, silent just below, once both windows and the `for` have passed."""
    every = _minutes(tier.short) // 4
    step = f"{every}m"
    eval_at = -(-(_minutes(tier.long) + _minutes(tier.for_) + 30) // every) * every
    series = {
        fires: series_at(limit * (ABOVE if fires else BELOW), RATE * every, (eval_at + 60) // every)
        for fires in (True, False)
    }
    labels = {"namespace": svc.namespace, "app": svc.name, "slo": kind}
    return around("around the budget", series, f"{eval_at}m", labels, step)


def budget(svc: MonitoredService, slo: Slo, record: str) -> tuple[ExprCase, ...]:
    """The budget left over the SLO window, sampled every WINDOW_STEP: on traffic that spent half
    of it, one and a half times it, and (blue-green) on a preview's failures no user saw."""
    every = _minutes(WINDOW_STEP)
    steps = _minutes(slo.window) // every + 2
    per_step, end = RATE * every, f"{(steps - 1) * every}m"
    service = {"namespace": svc.namespace, "app": svc.name}
    found = []
    for spent in (0.5, 1.5):
        errors = (1 - slo.availability) * spent
        slow = (1 - slo.latency) * spent
        for kind, series in (
            ("availability", _traffic(svc, svc.tracks[0], errors, per_step, steps)),
            (
                "latency",
                _histogram(svc, {in_seconds(slo.latency_threshold): 1 - slow}, per_step, steps),
            ),
        ):
            labels = {**service, "slo": kind}
            found.append(
                ExprCase(
                    f"{kind} budget left once {spent:g} of it is spent",
                    series,
                    end,
                    f"{record}{_labels(**labels)}",
                    labels,
                    1 - spent,
                    WINDOW_STEP,
                )
            )
    if PREVIEW in svc.tracks:
        labels = {**service, "slo": "availability"}
        series = {
            **_traffic(svc, ACTIVE, 0.0, per_step, steps),
            **_traffic(svc, PREVIEW, 0.5, per_step, steps),
        }
        found.append(
            ExprCase(
                "a failing preview spends no budget",
                series,
                end,
                f"{record}{_labels(**labels)}",
                labels,
                1.0,
                WINDOW_STEP,
            )
        )
    return tuple(found)


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
