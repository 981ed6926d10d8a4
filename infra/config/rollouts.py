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


# The plugin's image repository and the release the controller's configuration is written for
# (how to pin it: RUNBOOK).
GATEWAY_PLUGIN = "ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi"
GATEWAY_PLUGIN_VERSION = "v0.15.0"
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

    namespace: DnsLabel = Field(
        "argo-rollouts", description="The namespace the controller runs in."
    )
    chart: Chart = Field(
        default_factory=lambda: VendoredChart(
            name="argo-rollouts",
            repository="https://argoproj.github.io/argo-helm",
            version="2.41.0",
        ),
        description="The controller's chart; another version needs its archive vendored.",
    )
    replicas: Integer = Field(
        default=2, ge=1, le=5, description="Controller replicas (one leads, the others wait)."
    )
    gateway_plugin_image: PinnedImage = Field(
        description="The Gateway API traffic-router plugin's image, pinned by digest "
        f"({GATEWAY_PLUGIN}@sha256:..., {GATEWAY_PLUGIN_VERSION})."
    )

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

    interval: ArgoDuration = Field("1m", description="How often each measurement is taken.")
    failure_limit: Integer = Field(
        default=1,
        ge=0,
        le=10,
        description="Failed measurements tolerated; one more aborts the release.",
    )
    error_ratio: Ratio = Field(
        gt=0, lt=1, description="The highest ratio of 5xx answers the new version may give."
    )
    latency_p95: MeasurableLatency = Field(
        description="The highest 95th-percentile latency the new version may have."
    )
    window: ArgoDuration = Field(
        "2m",
        description="The range each query measures over; at least the interval, so no "
        "request goes unseen, and two scrapes.",
    )

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
    weight: PercentRatio = Field(
        gt=0,
        le=1,
        description="The canary's share of traffic at this step (Argo Rollouts takes whole "
        "percents).",
    )
    pause: ArgoDuration | None = Field(
        None,
        description="How long the step lasts; unset on the last step, which waits for "
        "`infractl rollout promote` (the human gate).",
    )


class Promotion(Model):
    """Blue-green: promote by hand (`infractl rollout promote`) or after a delay."""

    RENAMED: ClassVar[dict[str, str]] = {"afterSeconds": "after, a duration such as 10m"}

    mode: Literal["manual", "timed"] = Field(
        "manual",
        description="manual: `infractl rollout promote` promotes; timed: promotion after a delay.",
    )
    after: Annotated[Duration, Within("30s", "1d", step="1s")] | None = Field(
        None, description="How long a timed promotion waits after the analysis passed."
    )

    @model_validator(mode="after")
    def _after_only_when_timed(self) -> Promotion:
        if self.mode == "timed" and self.after is None:
            raise at("after", "required when mode is 'timed'")
        if self.mode == "manual" and self.after is not None:
            raise at("after", "only with mode 'timed' (manual promotion has no delay)")
        return self
