"""Prometheus, Alertmanager, Grafana and Loki: what each stack installs and alerts on."""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    OpenRatio,
    Quantity,
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


# The app's high-resolution latency histogram buckets (prometheus-fastapi-instrumentator).
LATENCY_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5,
    5.0, 7.5, 10.0, 30.0, 60.0,
)  # fmt: skip
BUCKET_DURATIONS = [as_duration(Decimal(str(b))) for b in LATENCY_BUCKETS]


# How often Prometheus scrapes the app (its ServiceMonitor); rate() needs two samples in a window.
SCRAPE_INTERVAL = "30s"

# HighErrorRate: the 5xx ratio over ERROR_WINDOW, above the threshold for ERROR_FOR; so it fires
# ERROR_WINDOW + ERROR_FOR after errors start at its threshold.
ERROR_WINDOW = ERROR_FOR = "5m"


@dataclass(frozen=True)
class BurnTier:
    """One tier of multi-window burn-rate alerts (SRE workbook, "Alerting on SLOs"): it fires
    when both windows burn faster than spending `budget_share` of the SLO window's error budget
    within `long`."""

    name: str  # the alert name's suffix
    budget_share: float
    long: str
    short: str
    for_: str
    severity: str
    page: bool  # page tiers wait for Slo.pageMinBadRequests; ticket tiers do not

    def factor(self, window: str) -> float:
        """The burn rate (multiple of the budget ratio) this tier fires above."""
        return round(self.budget_share * in_seconds(window) / in_seconds(self.long), 6)


# Page on 2% of the budget in 1h or 5% in 6h; ticket on 10% in 1d or in 3d. Over a 30-day window
# these are the workbook's factors 14.4, 6, 3 and 1.
BURN_TIERS = (
    BurnTier("Fast", 0.02, "1h", "5m", "2m", "critical", page=True),
    BurnTier("Slow", 0.05, "6h", "30m", "15m", "warning", page=True),
    BurnTier("1d", 0.10, "1d", "2h", "1h", "warning", page=False),
    BurnTier("3d", 0.10, "3d", "6h", "3h", "warning", page=False),
)
# The longest range any rule reads: a shorter SLO window (or less history) cannot evaluate it.
LONGEST_BURN_WINDOW = "3d"


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


class Thresholds(Model):
    """Alert thresholds of this stack's environment."""

    RENAMED: ClassVar[dict[str, str]] = {
        "latencyP95Seconds": "latencyP95, a duration such as 500ms",
        "latencyP99Seconds": "latencyP99, a duration such as 1s",
        "errorRate": "errorRatio, the same ratio (as in the analysis of a release)",
    }

    latency_p95: MeasurableLatency = Field(
        "500ms", description="HighLatencyP95 fires when the 95th percentile stays above this."
    )
    latency_p99: MeasurableLatency = Field(
        "1s", description="HighLatencyP99 fires when the 99th percentile stays above this."
    )
    error_ratio: OpenRatio = Field(
        0.05, description="HighErrorRate fires when more than this ratio of requests answer 5xx."
    )
    cpu_throttling: OpenRatio = Field(
        0.25,
        description="CpuThrottled fires when more than this ratio of CPU periods are throttled.",
    )
    memory_of_limit: OpenRatio = Field(
        0.9,
        description="MemoryNearLimit fires when a container uses more than this ratio of "
        "its memory limit.",
    )
    restarts_per_hour: Integer = Field(
        default=3,
        ge=1,
        le=1000,
        description="FrequentRestarts fires at this many restarts in an hour.",
    )
    canary_error_factor: Number = Field(
        default=2.0,
        gt=1,
        le=1000,
        description="CanaryErrorRateAboveStable fires when the canary's error ratio is this "
        "many times stable's (and above canaryErrorFloor).",
    )
    canary_error_floor: OpenRatio = Field(
        0.01,
        description="The canary error ratio below which CanaryErrorRateAboveStable stays "
        "quiet, however it compares.",
    )


class Slo(Model):
    RENAMED: ClassVar[dict[str, str]] = {
        "latencyThresholdSeconds": "latencyThreshold, a duration such as 500ms"
    }

    availability: OpenRatio = Field(
        0.999, description="The ratio of requests that must not answer 5xx, over the SLO's window."
    )
    latency: OpenRatio = Field(
        0.99, description="The ratio of requests that must be faster than latencyThreshold."
    )
    latency_threshold: Duration = Field(
        "500ms",
        description="Requests slower than this count against the latency SLO; one of the "
        "app's histogram buckets.",
    )
    window: Annotated[Duration, Within(LONGEST_BURN_WINDOW)] = Field(
        "30d",
        description="The period the error budgets are counted over (budget left, the release "
        "gate); the burn-rate alerts' factors follow from it. At least 3d, the longest "
        "burn-rate window.",
    )
    page_min_bad_requests: Integer = Field(
        10,
        ge=1,
        le=10000,
        description="The fewest failed (or too slow) requests a paging burn-rate alert's long "
        "window must count before it pages: at night-time traffic a handful of failures is a "
        "huge burn rate but no outage; the ticket alerts still see a sustained burn.",
    )

    @model_validator(mode="after")
    def _bucket(self) -> Slo:
        if in_seconds(self.latency_threshold) not in LATENCY_BUCKETS:
            raise at(
                "latencyThreshold",
                f"must be one of the app's histogram buckets {', '.join(BUCKET_DURATIONS)} "
                f"(got {self.latency_threshold})",
            )
        fast = BURN_TIERS[0].factor(self.window)
        for kind in ("availability", "latency"):
            budget = 1 - getattr(self, kind)
            # A ratio cannot exceed 1: a fast-burn limit at or above it could never be crossed.
            if fast * budget >= 1:
                raise at(
                    kind,
                    f"must be above {1 - 1 / fast:.4f}: with an error budget of {budget:g} over "
                    f"{self.window} the fast burn-rate alert ({fast:g}x the budget, a ratio above "
                    "1) could never fire",
                )
        return self


class Receiver(Model):
    name: DnsLabel = Field(description="The receiver's name, as routes name it.")
    type: Literal["slack", "pagerduty", "webhook"] = Field(
        description="Where Alertmanager sends: Slack, PagerDuty or a webhook."
    )
    secret: SecretRef = Field(
        description="The webhook URL (slack, webhook) or routing key (pagerduty): a secret "
        "reference."
    )
    channel: (
        Annotated[str, pattern(r"^#?[a-z0-9][a-z0-9._-]{0,79}$", "a Slack channel such as #alerts")]
        | None
    ) = Field(None, description="The Slack channel (slack only).")


class Alerting(Model):
    receivers: Annotated[list[Receiver], unique("receiver", lambda r: r.name)] = Field(
        default_factory=list, description="Where alerts can be sent."
    )
    routes: dict[Literal["critical", "warning", "info"], DnsLabel] = Field(
        default_factory=dict,
        description="Severity -> receiver; a severity without a route goes to the default "
        "receiver.",
    )
    default_receiver: DnsLabel | None = Field(
        None, description="The receiver of alerts no route takes (unset: nobody)."
    )

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
    size: Size = Field("50Gi", description="The volume's size.")
    storage_class: (
        Annotated[
            str,
            pattern(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", "a StorageClass name"),
        ]
        | None
    ) = Field(None, description="The StorageClass of the volume (unset: the cluster's default).")


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
    enabled: bool = Field(False, description="Collect the pods' logs into Loki, shown in Grafana.")
    chart: Chart = Field(
        default_factory=lambda: VendoredChart(
            name="loki", repository="https://grafana.github.io/helm-charts", version="6.30.1"
        ),
        description="Loki's chart.",
    )
    # Loki as one binary (ingest, query, compaction) on its volume.
    resources: Resources = resources_field("Loki", ("250m", "512Mi"), ("2", "2Gi"))
    gateway: Workload = workload("Loki's gateway (nginx, the URL Grafana and Alloy use)",
                                 ("50m", "64Mi"), ("500m", "256Mi"))  # fmt: skip
    canary: Workload = workload("Loki's canary (writes and reads back a log line on each node)",
                                ("10m", "50Mi"), ("100m", "128Mi"))  # fmt: skip
    collector: Collector = Field(
        default_factory=Collector,
        description="The collector that ships the pods' logs to Loki (Alloy, on every node).",
    )
    # Loki applies retention per daily index period: less than a day deletes what it ingests.
    retention: Annotated[Duration, Within("1d")] = Field(
        "168h", description="How long Loki keeps logs (at least a day, its index period)."
    )
    storage: Storage = Field(
        default_factory=lambda: Storage(size="20Gi"), description="Loki's volume."
    )


class Prometheus(Model):
    """The Prometheus server of the stack: how much history it keeps and what it may use."""

    retention: Duration = Field(
        "30d",
        description="How long Prometheus keeps metrics; at least slo.window, the period the "
        "error budgets are counted over.",
    )
    retention_size: Size = Field(
        "45Gi",
        description="Prometheus deletes the oldest data beyond this size (rendered in its own "
        "units: 45Gi is its 45GB).",
    )
    storage: Storage | None = Field(
        None,
        description="A persistent volume for the metrics (unset: kept on the pod, lost on "
        "restart).",
    )
    resources: PrometheusResources = Field(
        default_factory=PrometheusResources, description="Prometheus' CPU and memory."
    )


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

    namespace: DnsLabel = Field("monitoring", description="The namespace monitoring runs in.")
    chart: Chart = Field(
        default_factory=lambda: VendoredChart(
            name="kube-prometheus-stack",
            repository="https://prometheus-community.github.io/helm-charts",
            version="88.5.0",
        ),
        description="The kube-prometheus-stack chart (Prometheus, Alertmanager, Grafana).",
    )
    prometheus: Prometheus = Field(
        default_factory=Prometheus, description="The Prometheus server's history and resources."
    )
    protect: bool = Field(
        False,
        description="Refuse any `up` that would delete the release (and with it the metrics "
        "history).",
    )
    grafana_admin: SecretRef = Field(description="Grafana's admin password: a secret reference.")
    thresholds: Thresholds = Field(
        default_factory=Thresholds, description="What the alerts fire at."
    )
    slo: Slo = Field(
        default_factory=Slo, description="The service level objectives the burn-rate alerts keep."
    )
    alerting: Alerting = Field(default_factory=Alerting, description="Where alerts go.")
    loki: Loki = Field(default_factory=Loki, description="Log aggregation.")
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
    runbook_base_url: HttpsUrl = Field(
        "https://github.com/tbcoin/tbcoin-platform/blob/main/docs/runbooks/alerts.md",
        description="Each alert links its runbook at this URL, with the alert's anchor.",
    )

    @model_validator(mode="after")
    def _history_long_enough(self) -> MonitoringConfig:
        # The error budget reads the whole SLO window: with less history it counts a part of it.
        if in_seconds(self.prometheus.retention) < in_seconds(self.slo.window):
            raise at(
                "prometheus.retention",
                f"must be at least {self.slo.window}, the SLO window (slo.window) the error "
                f"budgets are counted over (got {self.prometheus.retention})",
            )
        return self
