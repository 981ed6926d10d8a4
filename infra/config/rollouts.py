"""Progressive delivery on Argo Rollouts: the controller of the cluster, and the steps and
analysis a canary or blue-green service is released with."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from infra.config.base import (
    DnsLabel,
    Duration,
    Integer,
    Model,
    PercentRatio,
    Ratio,
    Within,
    as_duration,
    pattern,
    seconds,
)
from infra.config.charts import Chart, VendoredChart
from infra.config.errors import ConfigProblem, at
from infra.config.monitoring import SCRAPE_INTERVAL, MeasurableLatency
from infra.config.resources import Resources, resources_field

# Argo Rollouts reads a pause or interval in whole seconds (it truncates anything finer).
ArgoDuration = Annotated[Duration, Within("1s", "7d", step="1s")]
# The plugin image must be pinned: a tag can be moved under a running controller.
PinnedImage = Annotated[
    str,
    pattern(
        r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$",
        "an image pinned by digest: registry/repository@sha256:<64 hex digits>",
    ),
]


# The plugin's image repository (the release, v0.15.0, and how to pin it: RUNBOOK).
GATEWAY_PLUGIN = "ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi"
# How to find, verify and set the real digest (crane, cosign, pulumi config set).
RUNBOOK = "docs/runbooks/plugin-image-digest.md"


def is_placeholder_digest(image: str) -> bool:
    """A digest of one repeated hex digit (sha256:000…0) stands in for one nobody resolved: it
    is well-formed, so it passes PinnedImage, but no registry serves it."""
    return len(set(image.rpartition("@sha256:")[2])) == 1


class RolloutsController(Model):
    """The Argo Rollouts controller of the cluster, from the vendored chart."""

    RENAMED: ClassVar[dict[str, str]] = {
        "chartVersion": "chart.version (a chart is {name, repository, version})"
    }

    namespace: DnsLabel = "argo-rollouts"
    # The chart this project vendors (vendor/helm-charts/); another version needs its archive.
    chart: Chart = Field(
        default_factory=lambda: VendoredChart(
            name="argo-rollouts",
            repository="https://argoproj.github.io/argo-helm",
            version="2.41.0",
        )
    )
    replicas: Integer = Field(default=2, ge=1, le=5)
    resources: Resources = resources_field("the controller", ("100m", "128Mi"), ("1", "512Mi"))
    # ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi@sha256:… (v0.15.0).
    gateway_plugin_image: PinnedImage

    def deploy_problems(self) -> list[ConfigProblem]:
        """What an offline plan may carry but no deploy may ship: a placeholder digest plans
        fine and cannot start (the init container cannot pull it)."""
        if not is_placeholder_digest(self.gateway_plugin_image):
            return []
        return [
            ConfigProblem(
                "rollouts.gatewayPluginImage",
                "the digest is a placeholder: the Argo Rollouts controller cannot start with "
                f"it ({RUNBOOK})",
            )
        ]


class Analysis(Model):
    """Background analysis against Prometheus with the alerts' own expressions."""

    RENAMED: ClassVar[dict[str, str]] = {
        "maxErrorRatio": "errorRatio, the same ratio (as in monitoring.thresholds)",
        "maxP95Seconds": "latencyP95, a duration such as 500ms",
    }

    interval: ArgoDuration = "1m"
    # Failed measurements tolerated; one more aborts the release.
    failure_limit: Integer = Field(default=1, ge=0, le=10)
    error_ratio: Ratio = Field(gt=0, lt=1)
    latency_p95: MeasurableLatency
    # The analysis window of each query; at least the interval so no request goes unseen.
    window: ArgoDuration = "2m"

    @model_validator(mode="after")
    def _window_covers_interval(self) -> Analysis:
        if seconds(self.window) < seconds(self.interval):
            raise at("window", f"must be at least the interval {self.interval} (got {self.window})")
        if seconds(self.window) < 2 * seconds(SCRAPE_INTERVAL):
            raise at(
                "window",
                f"must be at least {as_duration(2 * seconds(SCRAPE_INTERVAL))}: the app is scraped "
                f"every {SCRAPE_INTERVAL} and rate() needs two samples in its window, so a "
                f"shorter one never measures (got {self.window})",
            )
        return self


class CanaryStep(Model):
    # The canary's share of traffic at this step; Argo Rollouts takes whole percents.
    weight: PercentRatio = Field(gt=0, le=1)
    # Without a duration the rollout waits for `infractl rollout promote` (a human gate).
    pause: ArgoDuration | None = None


class Promotion(Model):
    """Blue-green: promote by hand (`infractl rollout promote`) or after a delay."""

    RENAMED: ClassVar[dict[str, str]] = {"afterSeconds": "after, a duration such as 10m"}

    mode: Literal["manual", "timed"] = "manual"
    after: Annotated[Duration, Within("30s", "1d", step="1s")] | None = None

    @model_validator(mode="after")
    def _after_only_when_timed(self) -> Promotion:
        if self.mode == "timed" and self.after is None:
            raise at("after", "required when mode is 'timed'")
        if self.mode == "manual" and self.after is not None:
            raise at("after", "only with mode 'timed' (manual promotion has no delay)")
        return self
