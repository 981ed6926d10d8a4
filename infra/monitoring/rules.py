"""Recording rules and alerts of one service (the PrometheusRule `spec`).

Metrics contract (prometheus-fastapi-instrumentator defaults, scraped by the ServiceMonitor,
which adds `app` and `track` from the pod's labels):
- `http_requests_total{status}` counter, `status` grouped as 2xx/4xx/5xx;
- `http_request_duration_highr_seconds` histogram (buckets `LATENCY_BUCKETS`, no labels);
plus kube-state-metrics (`kube_*`) and cAdvisor (`container_*`) series.

Descriptions use labels and configured thresholds only (no `$value`), so the promtool tests can
state every annotation exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.config.base import in_seconds
from infra.config.monitoring import FAST_BURN, SLOW_BURN, MonitoringConfig, Thresholds
from infra.monitoring import cases
from infra.monitoring.cases import Case, le
from infra.monitoring.target import MonitoredService
from infra.release import CANARY, DEPLOYMENT, STABLE

WINDOWS = ("5m", "30m", "1h", "6h")
BY = "namespace, app, track"

REQUESTS = "app_track:http_requests:rate{w}"
ERROR_RATIO = "app_track:http_error_ratio:rate{w}"
LATENCY_BAD_RATIO = "app_track:http_latency_slo_miss_ratio:rate{w}"
QUANTILE = "app_track:http_request_duration_seconds:p{q}_5m"


def percent(ratio: float) -> str:
    return f"{ratio * 100:.4g}%"


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str
    # promtool cases stated with the alert (infra/monitoring/cases.py): no alert without them.
    cases: tuple[Case, ...]

    def __post_init__(self) -> None:
        if {c.fires for c in self.cases} != {True, False}:
            raise ValueError(f"alert {self.name} needs a firing and a silent promtool case")

    def rule(self, runbook_base: str, app: str) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity, "app": app},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": f"{runbook_base}#{self.name.lower()}",
            },
        }


def selector(svc: MonitoredService, **extra: str) -> str:
    labels = {"namespace": svc.namespace, "app": svc.name, **extra}
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def error_ratio_expr(selector: str, window: str) -> str:
    """Share of requests answered 5xx, by track; defined once for rules and canary analysis."""
    total = f"sum by ({BY}) (rate(http_requests_total{{{selector}}}[{window}]))"
    errors = f'sum by ({BY}) (rate(http_requests_total{{{selector},status=~"5.."}}[{window}]))'
    # `or … * 0`: a service with no 5xx yet has ratio 0, not no ratio at all.
    return f"({errors} or {total} * 0) / {total}"


def quantile_expr(q: str, selector: str, window: str) -> str:
    """The q-th latency percentile (q as "95"), by track."""
    return (
        f"histogram_quantile(0.{q}, sum by ({BY}, le) "
        f"(rate(http_request_duration_highr_seconds_bucket{{{selector}}}[{window}])))"
    )


def canary_above_stable_expr(svc: MonitoredService, t: Thresholds) -> str:
    """The canary's error ratio when it is above `canaryErrorFactor` x stable's and the floor
    (empty otherwise); shared by the alert and the Rollout's analysis."""
    ratio = ERROR_RATIO.format(w="5m")
    canary, stable = selector(svc, track=CANARY), selector(svc, track=STABLE)
    return (
        f"{ratio}{{{canary}}} > on (namespace, app) group_left () "
        f"({t.canary_error_factor} * {ratio}{{{stable}}}) "
        f"and {ratio}{{{canary}}} > {t.canary_error_floor}"
    )


def recording_rules(svc: MonitoredService, m: MonitoringConfig) -> list[dict[str, Any]]:
    sel = selector(svc)
    fast_enough = le(in_seconds(m.slo.latency_threshold))
    ok = f'http_request_duration_highr_seconds_bucket{{{sel},le="{fast_enough}"}}'
    rules = []
    for w in WINDOWS:
        rules += [
            {
                "record": REQUESTS.format(w=w),
                "expr": f"sum by ({BY}) (rate(http_requests_total{{{sel}}}[{w}]))",
            },
            {"record": ERROR_RATIO.format(w=w), "expr": error_ratio_expr(sel, w)},
            {
                "record": LATENCY_BAD_RATIO.format(w=w),
                "expr": f"1 - (sum by ({BY}) (rate({ok}[{w}])) / sum by ({BY}) "
                f"(rate(http_request_duration_highr_seconds_count{{{sel}}}[{w}])))",
            },
        ]
    for q in ("95", "99"):
        rules.append({"record": QUANTILE.format(q=q), "expr": quantile_expr(q, sel, "5m")})
    return rules


def _burn(
    svc: MonitoredService,
    kind: str,
    series: str,
    budget: float,
    slo: float,
    cases_at: Callable[[float, bool], tuple[Case, ...]],
) -> list[Alert]:
    sel = selector(svc)
    alerts = []
    for speed, factor, long_w, short_w, for_, severity in (
        ("Fast", FAST_BURN, "1h", "5m", "2m", "critical"),
        ("Slow", SLOW_BURN, "6h", "30m", "15m", "warning"),
    ):
        limit = round(factor * budget, 10)
        alerts.append(
            Alert(
                name=f"{kind}ErrorBudgetBurn{speed}",
                expr=f"{series.format(w=long_w)}{{{sel}}} > {limit} and "
                f"{series.format(w=short_w)}{{{sel}}} > {limit}",
                for_=for_,
                severity=severity,
                summary=f"{{{{ $labels.app }}}} ({{{{ $labels.track }}}}) burns its {kind.lower()} "
                f"error budget {factor:g}x too fast",
                description=f"Over both {long_w} and {short_w}, more than {percent(limit)} of "
                f"requests to {{{{ $labels.app }}}} ({{{{ $labels.track }}}}) in "
                f"{{{{ $labels.namespace }}}} missed the {percent(slo)} {kind.lower()} SLO.",
                cases=cases_at(factor * budget, speed == "Fast"),
            )
        )
    return alerts


def _slo_alerts(svc: MonitoredService, m: MonitoringConfig) -> list[Alert]:
    """Multi-window burn rates of the availability and latency SLOs."""
    return [
        *_burn(
            svc,
            "Availability",
            ERROR_RATIO,
            1 - m.slo.availability,
            m.slo.availability,
            lambda limit, fast: cases.availability_burn(svc, limit, fast),
        ),
        *_burn(
            svc,
            "Latency",
            LATENCY_BAD_RATIO,
            1 - m.slo.latency,
            m.slo.latency,
            lambda limit, fast: cases.latency_burn(
                svc, limit, fast, in_seconds(m.slo.latency_threshold)
            ),
        ),
    ]


def _traffic_alerts(svc: MonitoredService, m: MonitoringConfig) -> list[Alert]:
    """The thresholds on errors and latency quantiles, per track."""
    t, sel = m.thresholds, selector(svc)
    who = "{{ $labels.app }} ({{ $labels.track }}) in {{ $labels.namespace }}"
    found = [
        Alert(
            "HighErrorRate",
            f"{ERROR_RATIO.format(w='5m')}{{{sel}}} > {t.error_ratio}",
            "5m",
            "warning",
            f"{who}: more than {percent(t.error_ratio)} of requests fail",
            f"Over 5m, more than {percent(t.error_ratio)} of requests to {who} answered 5xx.",
            cases.error_ratio(svc, t.error_ratio, "15m"),
        ),
    ]
    for q, limit in (("95", in_seconds(t.latency_p95)), ("99", in_seconds(t.latency_p99))):
        found.append(
            Alert(
                f"HighLatencyP{q}",
                f"{QUANTILE.format(q=q)}{{{sel}}} > {limit}",
                "10m",
                "warning",
                f"{who}: p{q} latency above {limit:g}s",
                f"The {q}th percentile of request duration of {who} has been above {limit:g}s "
                "for 10 minutes.",
                cases.latency_quantile(svc, int(q) / 100, limit),
            )
        )
    return found


def _pod_alerts(svc: MonitoredService, m: MonitoringConfig) -> list[Alert]:
    """Resources and restarts of the app container, per pod."""
    t = m.thresholds
    pods = f'namespace="{svc.namespace}",pod=~"{svc.pod_regex}",container="app"'
    pod = "Pod {{ $labels.pod }} of " + svc.name
    return [
        Alert(
            "CpuThrottled",
            "sum by (namespace, pod) (rate(container_cpu_cfs_throttled_periods_total"
            f"{{{pods}}}[5m])) / sum by (namespace, pod) "
            f"(rate(container_cpu_cfs_periods_total{{{pods}}}[5m])) > {t.cpu_throttling}",
            "15m",
            "warning",
            f"{pod} is CPU-throttled",
            f"{pod} was throttled in more than {percent(t.cpu_throttling)} of CPU periods for "
            "15 minutes; raise its CPU limit or replicas.",
            cases.cpu_throttling(svc, t.cpu_throttling),
        ),
        Alert(
            "MemoryNearLimit",
            f"max by (namespace, pod) (container_memory_working_set_bytes{{{pods}}})"
            f" / max by (namespace, pod) (kube_pod_container_resource_limits{{{pods},"
            f'resource="memory"}}) > {t.memory_of_limit}',
            "10m",
            "warning",
            f"{pod} is close to its memory limit",
            f"{pod} has used more than {percent(t.memory_of_limit)} of its memory limit for "
            "10 minutes; it will be OOM-killed if it grows.",
            cases.memory_of_limit(svc, t.memory_of_limit),
        ),
        Alert(
            "FrequentRestarts",
            f"max by (namespace, pod) (kube_pod_container_status_restarts_total{{{pods}}}"
            f" - kube_pod_container_status_restarts_total{{{pods}}} offset 1h)"
            f" > {t.restarts_per_hour}",
            "0m",
            "warning",
            f"{pod} restarts often",
            f"{pod} restarted more than {t.restarts_per_hour} times in the last hour.",
            cases.restarts(svc, t.restarts_per_hour),
        ),
        Alert(
            "CrashLooping",
            f"max by (namespace, pod) (kube_pod_container_status_waiting_reason{{{pods},"
            f'reason="CrashLoopBackOff"}}) == 1',
            "5m",
            "critical",
            f"{pod} is crash-looping",
            f"{pod} has been in CrashLoopBackOff for 5 minutes.",
            cases.crash_looping(svc),
        ),
    ]


def _workload_alerts(svc: MonitoredService, _m: MonitoringConfig) -> list[Alert]:
    return _deployment_alerts(svc) if svc.kind == DEPLOYMENT else _rollout_alerts(svc)


def _autoscaler_alerts(svc: MonitoredService, _m: MonitoringConfig) -> list[Alert]:
    if not svc.autoscaled:
        return []
    hpas = f'namespace="{svc.namespace}",horizontalpodautoscaler=~"{"|".join(svc.autoscaled)}"'
    return [
        Alert(
            "AutoscalerAtMaximum",
            f"kube_horizontalpodautoscaler_status_current_replicas{{{hpas}}}"
            f" >= kube_horizontalpodautoscaler_spec_max_replicas{{{hpas}}}",
            "15m",
            "warning",
            "Autoscaler {{ $labels.horizontalpodautoscaler }} is at its maximum",
            "HPA {{ $labels.horizontalpodautoscaler }} in {{ $labels.namespace }} has run at "
            "maxReplicas for 15 minutes; load beyond this is not absorbed.",
            cases.autoscaler_at_maximum(svc),
        )
    ]


def _canary_alerts(svc: MonitoredService, m: MonitoringConfig) -> list[Alert]:
    if not svc.canary:
        return []
    t = m.thresholds
    return [
        Alert(
            "CanaryErrorRateAboveStable",
            canary_above_stable_expr(svc, t),
            "5m",
            "critical",
            "Canary of {{ $labels.app }} fails more than stable",
            f"The canary of {{{{ $labels.app }}}} in {{{{ $labels.namespace }}}} has answered "
            f"5xx more than {t.canary_error_factor:g}x as often as stable (and above "
            f"{percent(t.canary_error_floor)}) for 5 minutes: abort the canary.",
            cases.canary_error_rate(svc, t.canary_error_factor, t.canary_error_floor),
        )
    ]


# One function per group of alerts, in the order the PrometheusRule lists them.
ALERT_GROUPS: tuple[Callable[[MonitoredService, MonitoringConfig], list[Alert]], ...] = (
    _slo_alerts,
    _traffic_alerts,
    _pod_alerts,
    _workload_alerts,
    _autoscaler_alerts,
    _canary_alerts,
)


def alerts(svc: MonitoredService, m: MonitoringConfig) -> list[Alert]:
    return [alert for group in ALERT_GROUPS for alert in group(svc, m)]


def _deployment_alerts(svc: MonitoredService) -> list[Alert]:
    deployments = f'namespace="{svc.namespace}",deployment=~"{svc.deployment_regex}"'
    return [
        Alert(
            "DeploymentReplicasUnavailable",
            f"kube_deployment_status_replicas_unavailable{{{deployments}}} > 0",
            "10m",
            "warning",
            "Deployment {{ $labels.deployment }} is missing replicas",
            "Deployment {{ $labels.deployment }} in {{ $labels.namespace }} has had unavailable "
            "replicas for 10 minutes.",
            cases.replicas_unavailable(svc),
        ),
        Alert(
            "RolloutStuck",
            f'kube_deployment_status_condition{{{deployments},condition="Progressing",'
            f'status="false"}} == 1',
            "5m",
            "critical",
            "Rollout of {{ $labels.deployment }} is not progressing",
            "Deployment {{ $labels.deployment }} in {{ $labels.namespace }} exceeded its progress "
            "deadline: the new pods do not become ready.",
            cases.rollout_stuck(svc),
        ),
    ]


def _rollout_alerts(svc: MonitoredService) -> list[Alert]:
    """From the Argo Rollouts controller's metrics (`rollout_info` carries the phase)."""
    rollout = f'namespace="{svc.namespace}",name="{svc.workload}"'
    return [
        Alert(
            "RolloutAborted",
            f'max by (namespace, name) (rollout_info{{{rollout},phase="Abort"}}) == 1',
            "1m",
            "critical",
            "Release of {{ $labels.name }} was aborted",
            "Argo Rollouts aborted the release of {{ $labels.name }} in {{ $labels.namespace }} "
            "(a failed analysis, or `infractl rollout abort`): traffic is back on the stable "
            "version. Find out why, then release a new digest (or, for a canary, "
            "`infractl rollout retry`).",
            cases.rollout_phase(svc, "Abort", "2m"),
        ),
        Alert(
            "RolloutDegraded",
            f"max by (namespace, name) (rollout_info{{{rollout},"
            f'phase=~"Error|Timeout|InvalidSpec"}}) == 1',
            "5m",
            "critical",
            "Rollout {{ $labels.name }} is degraded",
            "Rollout {{ $labels.name }} in {{ $labels.namespace }} has been in error, past its "
            "progress deadline or invalid for 5 minutes: the new pods do not become ready or the "
            "controller cannot act on it.",
            cases.rollout_phase(svc, "Error", "6m"),
        ),
        Alert(
            "RolloutReplicasUnavailable",
            f"rollout_info_replicas_unavailable{{{rollout}}} > 0",
            "10m",
            "warning",
            "Rollout {{ $labels.name }} is missing replicas",
            "Rollout {{ $labels.name }} in {{ $labels.namespace }} has had unavailable replicas "
            "for 10 minutes.",
            cases.rollout_replicas_unavailable(svc),
        ),
    ]


def rule_group_name(svc: MonitoredService) -> str:
    return f"{svc.namespace}-{svc.name}"


def prometheus_rule_spec(svc: MonitoredService, m: MonitoringConfig) -> dict[str, Any]:
    name = rule_group_name(svc)
    return {
        "groups": [
            {"name": f"{name}.recording", "interval": "1m", "rules": recording_rules(svc, m)},
            {
                "name": f"{name}.alerts",
                "rules": [a.rule(m.runbook_base_url, svc.name) for a in alerts(svc, m)],
            },
        ]
    }
