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
from infra.config.resources import PrometheusResources
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

# SRE workbook, "Alerting on SLOs": page on 2% of the 30-day budget in 1h, or 5% in 6h.
FAST_BURN, SLOW_BURN = 14.4, 6.0
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


Objective = Annotated[OpenRatio, AfterValidator(_burnable)]


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

    availability: Objective = Field(
        0.999, description="The ratio of requests that must not answer 5xx, over 30 days."
    )
    latency: Objective = Field(
        0.99, description="The ratio of requests that must be faster than latencyThreshold."
    )
    latency_threshold: Duration = Field(
        "500ms",
        description="Requests slower than this count against the latency SLO; one of the "
        "app's histogram buckets.",
    )

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


class Loki(Model):
    enabled: bool = Field(False, description="Collect the pods' logs into Loki, shown in Grafana.")
    chart: Chart = Field(
        default_factory=lambda: VendoredChart(
            name="loki", repository="https://grafana.github.io/helm-charts", version="6.30.1"
        ),
        description="Loki's chart.",
    )
    collector: Chart = Field(
        default_factory=lambda: VendoredChart(
            name="alloy", repository="https://grafana.github.io/helm-charts", version="1.2.0"
        ),
        description="The chart of the collector that ships the pods' logs to Loki (Alloy).",
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

    retention: Annotated[Duration, Within(LONGEST_RULE_WINDOW)] = Field(
        "15d",
        description="How long Prometheus keeps metrics; at least 6h, the slow burn rate's "
        "window, or the alerts can never fire.",
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
    runbook_base_url: HttpsUrl = Field(
        "https://github.com/tbcoin/tbcoin-platform/blob/main/docs/runbooks/alerts.md",
        description="Each alert links its runbook at this URL, with the alert's anchor.",
    )
