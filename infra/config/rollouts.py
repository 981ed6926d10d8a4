"""Progressive delivery on Argo Rollouts: the controller of the cluster, and the steps and
analysis a canary or blue-green service is released with."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, model_validator

from infra.config.base import DnsLabel, Model, pattern
from infra.config.errors import ConfigProblem, at
from infra.config.monitoring import SCRAPE_INTERVAL_SECONDS, MeasurableSeconds

# Argo Rollouts reads a pause or interval as a Go-style duration; one unit keeps it readable.
Duration = Annotated[str, pattern(r"^[1-9][0-9]{0,5}(s|m|h)$", "a duration such as 30s, 5m or 1h")]
_SECONDS = {"s": 1, "m": 60, "h": 3600}
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


def seconds(duration: str) -> int:
    match = re.fullmatch(r"([0-9]+)([smh])", duration)
    assert match is not None  # Duration's pattern guarantees it
    return int(match.group(1)) * _SECONDS[match.group(2)]


class RolloutsController(Model):
    """The Argo Rollouts controller of the cluster, from the vendored chart."""

    namespace: DnsLabel = "argo-rollouts"
    # The chart this project vendors (vendor/helm-charts/); another version needs its archive.
    chart_version: Literal["2.41.0"] = "2.41.0"
    replicas: int = Field(default=2, ge=1, le=5)
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

    interval: Duration = "1m"
    # Failed measurements tolerated; one more aborts the release.
    failure_limit: int = Field(default=1, ge=0, le=10)
    max_error_ratio: float = Field(gt=0, lt=1)
    max_p95_seconds: MeasurableSeconds
    # The analysis window of each query; at least the interval so no request goes unseen.
    window: Duration = "2m"

    @model_validator(mode="after")
    def _window_covers_interval(self) -> Analysis:
        if seconds(self.window) < seconds(self.interval):
            raise at("window", f"must be at least the interval {self.interval} (got {self.window})")
        if seconds(self.window) < 2 * SCRAPE_INTERVAL_SECONDS:
            raise at(
                "window",
                f"must be at least {2 * SCRAPE_INTERVAL_SECONDS}s: the app is scraped every "
                f"{SCRAPE_INTERVAL_SECONDS}s and rate() needs two samples in its window, so a "
                f"shorter one never measures (got {self.window})",
            )
        return self


class CanaryStep(Model):
    weight: int = Field(ge=1, le=100)
    # Without a duration the rollout waits for `infractl rollout promote` (a human gate).
    pause: Duration | None = None


class Promotion(Model):
    """Blue-green: promote by hand (`infractl rollout promote`) or after a delay."""

    mode: Literal["manual", "timed"] = "manual"
    after_seconds: int | None = Field(default=None, ge=30, le=86400)

    @model_validator(mode="after")
    def _after_only_when_timed(self) -> Promotion:
        if self.mode == "timed" and self.after_seconds is None:
            raise at("afterSeconds", "required when mode is 'timed'")
        if self.mode == "manual" and self.after_seconds is not None:
            raise at("afterSeconds", "only with mode 'timed' (manual promotion has no delay)")
        return self
