"""Prometheus, Alertmanager, Grafana and Loki: what each stack installs and alerts on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from infra.config.base import (
    DnsLabel,
    HttpsUrl,
    Model,
    Number,
    Quantity,
    pattern,
    unique,
)
from infra.config.charts import VendoredChart
from infra.config.errors import at
from infra.config.secrets import SecretRef

Duration = Annotated[str, pattern(r"^[0-9]+(ms|s|m|h|d|w|y)$", "a duration such as 30s, 15d")]
ByteSize = Annotated[str, pattern(r"^[0-9]+(B|KB|MB|GB|TB|PB)$", "a size such as 45GB")]
ChartVersion = Annotated[
    str, pattern(r"^v?[0-9]+\.[0-9]+\.[0-9]+$", "an exact chart version such as 88.5.0")
]
Ratio = Annotated[Number, Field(gt=0, lt=1)]
# The app's high-resolution latency histogram buckets (prometheus-fastapi-instrumentator).
LATENCY_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5,
    5.0, 7.5, 10.0, 30.0, 60.0,
)  # fmt: skip


# How often Prometheus scrapes the app (its ServiceMonitor); rate() needs two samples in a window.
SCRAPE_INTERVAL_SECONDS = 30

_UNIT_SECONDS = {
    "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400,
}  # fmt: skip


def duration_seconds(duration: str) -> float:
    match = re.fullmatch(r"([0-9]+)([a-z]+)", duration)
    assert match is not None  # Duration's pattern guarantees it
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _measurable(seconds: float) -> float:
    # histogram_quantile never reports more than the largest finite bucket, and inside the
    # smallest one it only interpolates: a limit at or above the one can never be crossed (nor
    # the promtool cases built), and one below the other is crossed by any traffic at all.
    if seconds >= LATENCY_BUCKETS[-1]:
        raise ValueError(
            f"must be below {LATENCY_BUCKETS[-1]:g}, the app's largest latency bucket: a "
            "quantile is never measured above it, so the limit could never be crossed"
        )
    if seconds < LATENCY_BUCKETS[0]:
        raise ValueError(
            f"must be at least {LATENCY_BUCKETS[0]:g}, the app's smallest latency bucket: below "
            "it a quantile is only interpolated, so any traffic at all would cross the limit"
        )
    return seconds


MeasurableSeconds = Annotated[Number, Field(gt=0), AfterValidator(_measurable)]


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
        return round(self.budget_share * duration_seconds(window) / duration_seconds(self.long), 6)


# Page on 2% of the budget in 1h or 5% in 6h; ticket on 10% in 1d or in 3d. Over a 30-day window
# these are the workbook's factors 14.4, 6, 3 and 1.
BURN_TIERS = (
    BurnTier("Fast", 0.02, "1h", "5m", "2m", "critical", page=True),
    BurnTier("Slow", 0.05, "6h", "30m", "15m", "warning", page=True),
    BurnTier("1d", 0.10, "1d", "2h", "1h", "warning", page=False),
    BurnTier("3d", 0.10, "3d", "6h", "3h", "warning", page=False),
)
LONGEST_BURN_WINDOW = "3d"


class Chart(VendoredChart):
    version: ChartVersion


class Thresholds(Model):
    """Alert thresholds of this stack's environment."""

    latency_p95_seconds: MeasurableSeconds = 0.5
    latency_p99_seconds: MeasurableSeconds = 1.0
    error_rate: Ratio = 0.05
    cpu_throttling: Ratio = 0.25
    memory_of_limit: Ratio = 0.9
    restarts_per_hour: int = Field(default=3, ge=1)
    # Canary alert: its error rate above `canaryErrorFactor` x stable's and above the floor.
    canary_error_factor: Number = Field(default=2.0, gt=1)
    canary_error_floor: Ratio = 0.01


class Slo(Model):
    availability: Ratio = 0.999
    latency: Ratio = 0.99
    # Requests slower than this count against the latency SLO; must be a histogram bucket.
    latency_threshold_seconds: Number = 0.5
    window: Duration = Field(
        default="30d",
        description="The period the error budgets are counted over (remaining budget, window "
        "compliance, the release gate); burn-rate alert factors are derived from it.",
    )
    page_min_bad_requests: int = Field(
        default=10,
        ge=1,
        le=10000,
        description="The fewest failed (or too slow) requests a page-tier burn-rate alert's long "
        "window must count before it pages: at night-time traffic a handful of failures is a "
        "huge burn rate but no outage; the ticket tiers still see a sustained burn.",
    )

    @model_validator(mode="after")
    def _bucket(self) -> Slo:
        if self.latency_threshold_seconds not in LATENCY_BUCKETS:
            raise ValueError(
                f"latencyThresholdSeconds must be one of the app's histogram buckets "
                f"{list(LATENCY_BUCKETS)} (got {self.latency_threshold_seconds})"
            )
        if duration_seconds(self.window) < duration_seconds(LONGEST_BURN_WINDOW):
            raise at(
                "window",
                f"must be at least {LONGEST_BURN_WINDOW}, the longest burn-rate window "
                f"(got {self.window})",
            )
        fast = BURN_TIERS[0]
        for kind in ("availability", "latency"):
            budget = 1 - getattr(self, kind)
            # A ratio cannot exceed 1: a fast-burn limit at or above it could never be crossed.
            if fast.factor(self.window) * budget >= 1:
                raise at(
                    kind,
                    f"must be above {1 - 1 / fast.factor(self.window):.4f}: with an error budget "
                    f"of {budget:g} over {self.window} the fast burn-rate alert "
                    f"({fast.factor(self.window):g}x the budget, a ratio above 1) could never fire",
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
    size: Quantity = "50Gi"
    storage_class: (
        Annotated[
            str,
            pattern(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", "a StorageClass name"),
        ]
        | None
    ) = None


class Loki(Model):
    enabled: bool = False
    chart: Chart = Field(
        default_factory=lambda: Chart(
            chart="loki", repository="https://grafana.github.io/helm-charts", version="6.30.1"
        )
    )
    collector: Chart = Field(
        default_factory=lambda: Chart(
            chart="alloy", repository="https://grafana.github.io/helm-charts", version="1.2.0"
        )
    )
    retention: Duration = "168h"
    storage: Storage = Field(default_factory=lambda: Storage(size="20Gi"))


class MonitoringConfig(Model):
    namespace: DnsLabel = "monitoring"
    chart: Chart = Field(
        default_factory=lambda: Chart(
            chart="kube-prometheus-stack",
            repository="https://prometheus-community.github.io/helm-charts",
            version="88.5.0",
        )
    )
    retention: Duration = "15d"
    retention_size: ByteSize = "45GB"
    # Persistent storage for Prometheus; None keeps metrics on the pod (lost on restart).
    storage: Storage | None = None
    # Refuse any `up` that would delete the release (and with it the metrics history).
    protect: bool = False
    prometheus_cpu: Quantity = "500m"
    prometheus_memory: Quantity = "2Gi"
    grafana_admin: SecretRef
    thresholds: Thresholds = Field(default_factory=Thresholds)
    slo: Slo = Field(default_factory=Slo)
    alerting: Alerting = Field(default_factory=Alerting)
    loki: Loki = Field(default_factory=Loki)
    runbook_base_url: HttpsUrl = (
        "https://github.com/tbcoin/tbcoin-platform/blob/main/docs/runbooks/alerts.md"
    )

    @model_validator(mode="after")
    def _history_long_enough(self) -> MonitoringConfig:
        # The error budget reads the whole SLO window: with less history it counts a part of it.
        if duration_seconds(self.retention) < duration_seconds(self.slo.window):
            raise at(
                "retention",
                f"must be at least {self.slo.window}, the SLO window (slo.window) the error "
                f"budgets are counted over (got {self.retention})",
            )
        # Loki applies retention per daily index period: less than a day deletes what it ingests.
        if self.loki.enabled and duration_seconds(self.loki.retention) < 86400:
            raise at(
                "loki.retention",
                f"must be at least 24h, Loki's index period (got {self.loki.retention})",
            )
        return self
