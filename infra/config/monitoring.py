"""Prometheus, Alertmanager, Grafana and Loki: what each stack installs and alerts on."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from infra.config.base import (
    DnsLabel,
    Duration,
    HttpsUrl,
    Integer,
    Model,
    Number,
    Quantity,
    Ratio,
    Within,
    as_duration,
    in_seconds,
    pattern,
    quantity_value,
    unique,
)
from infra.config.charts import Chart, VendoredChart
from infra.config.errors import at
from infra.config.resources import (
    PrometheusResources,
    Resources,
    Workload,
    resources_field,
    workload,
)
from infra.config.secrets import SecretRef

# Prometheus reads `retention.size` in its own units, powers of 1024 (its GB is a GiB).
_PROMETHEUS_SIZE_UNITS = {"Ki": "KB", "Mi": "MB", "Gi": "GB", "Ti": "TB"}


def _old_size(value: object) -> object:
    # The old vocabulary gave Prometheus' units (`90GB`); say which quantity that was.
    old = re.fullmatch(r"([0-9]+)(KB|MB|GB|TB)", value) if isinstance(value, str) else None
    if old:
        raise ValueError(
            f"must be a Kubernetes quantity: {value} in Prometheus' units (powers of 1024) is "
            f"{old.group(1)}{old.group(2)[0]}i"
        )
    return value


Size = Annotated[Quantity, BeforeValidator(_old_size)]


def prometheus_size(quantity: str) -> str:
    """A size quantity in Prometheus' own units (`90Gi` -> `90GB`; decimal units as bytes)."""
    match = re.fullmatch(r"([0-9]+)(Ki|Mi|Gi|Ti)", quantity)
    if match:
        return f"{match.group(1)}{_PROMETHEUS_SIZE_UNITS[match.group(2)]}"
    return f"{int(quantity_value(quantity))}B"


Ratio01 = Annotated[Ratio, Field(gt=0, lt=1)]
# The app's high-resolution latency histogram buckets (prometheus-fastapi-instrumentator).
LATENCY_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5,
    5.0, 7.5, 10.0, 30.0, 60.0,
)  # fmt: skip
BUCKET_DURATIONS = [as_duration(Decimal(str(b))) for b in LATENCY_BUCKETS]


# How often Prometheus scrapes the app (its ServiceMonitor); rate() needs two samples in a window.
SCRAPE_INTERVAL = "30s"

# The period the SLOs are kept over: their error budgets are counted per 30 days.
SLO_PERIOD = "30d"
# SRE workbook, "Alerting on SLOs": page on 2% of the 30-day budget in 1h, or 5% in 6h.
FAST_BURN, SLOW_BURN = 14.4, 6.0
FAST_BURN_WINDOW = "1h"
# HighErrorRate: the 5xx ratio over ERROR_WINDOW, above the threshold for ERROR_FOR; so it fires
# ERROR_WINDOW + ERROR_FOR after errors start at its threshold.
ERROR_WINDOW = ERROR_FOR = "5m"
# The longest range any rule reads (the slow burn's 6h window): less history cannot evaluate it.
LONGEST_RULE_WINDOW = "6h"


def _measurable(latency: str) -> str:
    # histogram_quantile never reports more than the largest finite bucket, and inside the
    # smallest one it only interpolates: a limit at or above the one can never be crossed (nor
    # the promtool cases built), and one below the other is crossed by any traffic at all.
    if in_seconds(latency) >= LATENCY_BUCKETS[-1]:
        raise ValueError(
            f"must be below {BUCKET_DURATIONS[-1]}, the app's largest latency bucket: a "
            "quantile is never measured above it, so the limit could never be crossed"
        )
    if in_seconds(latency) < LATENCY_BUCKETS[0]:
        raise ValueError(
            f"must be at least {BUCKET_DURATIONS[0]}, the app's smallest latency bucket: below "
            "it a quantile is only interpolated, so any traffic at all would cross the limit"
        )
    return latency


# A latency limit a quantile of the app's histogram can cross.
MeasurableLatency = Annotated[Duration, AfterValidator(_measurable)]


def _burnable(objective: float) -> float:
    # The fast-burn alert fires at a 5xx (or slow) ratio of FAST_BURN x the budget; a ratio
    # cannot exceed 1, so with a budget of 1/FAST_BURN or more it could never fire.
    if FAST_BURN * (1 - objective) >= 1:
        raise ValueError(
            f"must be above {1 - 1 / FAST_BURN:.4f}: with an error budget of {1 - objective:g} "
            f"the fast burn-rate alert ({FAST_BURN:g}x the budget, a ratio above 1) could never "
            "fire"
        )
    return objective


Objective = Annotated[Ratio01, AfterValidator(_burnable)]


class Thresholds(Model):
    """Alert thresholds of this stack's environment."""

    RENAMED: ClassVar[dict[str, str]] = {
        "latencyP95Seconds": "latencyP95, a duration such as 500ms",
        "latencyP99Seconds": "latencyP99, a duration such as 1s",
        "errorRate": "errorRatio, the same ratio (as in the analysis of a release)",
    }

    latency_p95: MeasurableLatency = "500ms"
    latency_p99: MeasurableLatency = "1s"
    error_ratio: Ratio01 = 0.05
    cpu_throttling: Ratio01 = 0.25
    memory_of_limit: Ratio01 = 0.9
    restarts_per_hour: Integer = Field(default=3, ge=1, le=1000)
    # Canary alert: its error ratio above `canaryErrorFactor` x stable's and above the floor.
    canary_error_factor: Number = Field(default=2.0, gt=1, le=1000)
    canary_error_floor: Ratio01 = 0.01


class Slo(Model):
    RENAMED: ClassVar[dict[str, str]] = {
        "latencyThresholdSeconds": "latencyThreshold, a duration such as 500ms"
    }

    availability: Objective = 0.999
    latency: Objective = 0.99
    # Requests slower than this count against the latency SLO; must be a histogram bucket.
    latency_threshold: Duration = "500ms"

    @model_validator(mode="after")
    def _bucket(self) -> Slo:
        if in_seconds(self.latency_threshold) not in LATENCY_BUCKETS:
            raise at(
                "latencyThreshold",
                f"must be one of the app's histogram buckets {', '.join(BUCKET_DURATIONS)} "
                f"(got {self.latency_threshold})",
            )
        return self


class Receiver(Model):
    name: DnsLabel
    type: Literal["slack", "pagerduty", "webhook"]
    # The webhook URL (slack, webhook) or routing key (pagerduty): always a secret.
    secret: SecretRef
    channel: (
        Annotated[str, pattern(r"^#?[a-z0-9][a-z0-9._-]{0,79}$", "a Slack channel such as #alerts")]
        | None
    ) = None


class Alerting(Model):
    receivers: Annotated[list[Receiver], unique("receiver", lambda r: r.name)] = Field(
        default_factory=list
    )
    # severity -> receiver name; severities without a route go to the default receiver.
    routes: dict[Literal["critical", "warning", "info"], DnsLabel] = Field(default_factory=dict)
    default_receiver: DnsLabel | None = None

    @model_validator(mode="after")
    def _known_receivers(self) -> Alerting:
        names = {r.name for r in self.receivers}
        for severity, receiver in self.routes.items():
            if receiver not in names:
                raise ValueError(f"route for {severity!r} names unknown receiver {receiver!r}")
        if self.default_receiver is not None and self.default_receiver not in names:
            raise ValueError(f"defaultReceiver {self.default_receiver!r} is not a receiver")
        return self


class Storage(Model):
    size: Size = "50Gi"
    storage_class: (
        Annotated[
            str,
            pattern(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", "a StorageClass name"),
        ]
        | None
    ) = None


class Collector(Model):
    """Alloy, on every node: it tails the pods' logs and ships them to Loki."""

    RENAMED: ClassVar[dict[str, str]] = {
        key: f"chart.{key} (the collector is {{chart, resources}})"
        for key in ("name", "repository", "version")
    }

    chart: Chart = Field(
        default_factory=lambda: VendoredChart(
            name="alloy", repository="https://grafana.github.io/helm-charts", version="1.2.0"
        ),
        description="Alloy's chart.",
    )
    # Alloy's docs estimate about a core and 120 MiB per MiB/s of logs; a node's pods write less.
    resources: Resources = resources_field(
        "Alloy (on each node)", ("100m", "128Mi"), ("1", "512Mi")
    )


class Loki(Model):
    enabled: bool = False
    chart: Chart = Field(
        default_factory=lambda: VendoredChart(
            name="loki", repository="https://grafana.github.io/helm-charts", version="6.30.1"
        )
    )
    # Loki as one binary (ingest, query, compaction) on its volume.
    resources: Resources = resources_field("Loki", ("250m", "512Mi"), ("2", "2Gi"))
    gateway: Workload = workload("Loki's gateway (nginx, the URL Grafana and Alloy use)",
                                 ("50m", "64Mi"), ("500m", "256Mi"))  # fmt: skip
    canary: Workload = workload("Loki's canary (writes and reads back a log line on each node)",
                                ("10m", "50Mi"), ("100m", "128Mi"))  # fmt: skip
    collector: Collector = Field(
        default_factory=Collector, description="The collector that ships the pods' logs to Loki."
    )
    # Loki applies retention per daily index period: less than a day deletes what it ingests.
    retention: Annotated[Duration, Within("1d")] = "168h"
    storage: Storage = Field(default_factory=lambda: Storage(size="20Gi"))


class Prometheus(Model):
    """The Prometheus server of the stack: how much history it keeps and what it may use."""

    # The longest window the alerts read is the slow burn rate's: with less history they can
    # never fire.
    retention: Annotated[Duration, Within(LONGEST_RULE_WINDOW)] = "15d"
    # Prometheus deletes the oldest blocks beyond this size (rendered in its own units).
    retention_size: Size = "45Gi"
    # Persistent storage for Prometheus; None keeps metrics on the pod (lost on restart).
    storage: Storage | None = None
    resources: PrometheusResources = Field(default_factory=PrometheusResources)


_MOVED = "prometheus.{key} (Prometheus' own settings are under monitoring.prometheus)"


class MonitoringConfig(Model):
    RENAMED: ClassVar[dict[str, str]] = {
        "retention": _MOVED.format(key="retention"),
        "retentionSize": _MOVED.format(key="retentionSize") + ", a quantity such as 90Gi",
        "storage": _MOVED.format(key="storage"),
        "prometheusCpu": _MOVED.format(key="resources.requests.cpu"),
        "prometheusMemory": _MOVED.format(
            key="resources.requests.memory and prometheus.resources.limits.memory"
        ),
    }

    namespace: DnsLabel = "monitoring"
    chart: Chart = Field(
        default_factory=lambda: VendoredChart(
            name="kube-prometheus-stack",
            repository="https://prometheus-community.github.io/helm-charts",
            version="88.5.0",
        )
    )
    prometheus: Prometheus = Field(default_factory=Prometheus)
    # Refuse any `up` that would delete the release (and with it the metrics history).
    protect: bool = False
    grafana_admin: SecretRef
    thresholds: Thresholds = Field(default_factory=Thresholds)
    slo: Slo = Field(default_factory=Slo)
    alerting: Alerting = Field(default_factory=Alerting)
    loki: Loki = Field(default_factory=Loki)
    # The chart's other workloads. Sizes from the upstream hints: kube-prometheus-stack's values
    # (operator, node-exporter, Alertmanager's 400Mi), Grafana's documented minimum (512 MiB),
    # kube-state-metrics' README (250 MiB and 0.1 core up to 100 nodes).
    alertmanager: Workload = workload("Alertmanager", ("50m", "400Mi"), ("500m", "512Mi"))
    grafana: Workload = workload("Grafana", ("100m", "512Mi"), ("1", "1Gi"))
    operator: Workload = workload("The Prometheus operator", ("100m", "100Mi"), ("200m", "200Mi"))
    kube_state_metrics: Workload = workload(
        "kube-state-metrics", ("100m", "256Mi"), ("500m", "512Mi")
    )
    node_exporter: Workload = workload("node-exporter, on each node", ("100m", "30Mi"),
                                       ("200m", "50Mi"))  # fmt: skip
    runbook_base_url: HttpsUrl = (
        "https://github.com/tbcoin/tbcoin-platform/blob/main/docs/runbooks/alerts.md"
    )
