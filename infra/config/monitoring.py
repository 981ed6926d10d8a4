"""Prometheus, Alertmanager, Grafana and Loki: what each stack installs and alerts on."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

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


class Chart(VendoredChart):
    version: ChartVersion


class Thresholds(Model):
    """Alert thresholds of this stack's environment."""

    latency_p95_seconds: Number = Field(default=0.5, gt=0)
    latency_p99_seconds: Number = Field(default=1.0, gt=0)
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

    @model_validator(mode="after")
    def _bucket(self) -> Slo:
        if self.latency_threshold_seconds not in LATENCY_BUCKETS:
            raise ValueError(
                f"latencyThresholdSeconds must be one of the app's histogram buckets "
                f"{list(LATENCY_BUCKETS)} (got {self.latency_threshold_seconds})"
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
