"""Progressive delivery on Argo Rollouts: the controller of the cluster, and the steps and
analysis a canary or blue-green service is released with."""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from infra.config.base import DnsLabel, Model, Text, pattern
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


# The plugin release the controller's trafficRouterPlugins configuration is written for.
GATEWAY_PLUGIN = "ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi"
GATEWAY_PLUGIN_VERSION = "v0.15.0"


def is_placeholder_digest(image: str) -> bool:
    """A digest of one repeated hex digit (sha256:000…0) stands in for one nobody resolved: it
    is well-formed, so it passes PinnedImage, but no registry serves it."""
    return len(set(image.rpartition("@sha256:")[2])) == 1


def seconds(duration: str) -> int:
    match = re.fullmatch(r"([0-9]+)([smh])", duration)
    assert match is not None  # Duration's pattern guarantees it
    return int(match.group(1)) * _SECONDS[match.group(2)]


# The receiver types a release notification may go to: a message, not a page.
NOTIFIED_BY = ("slack", "webhook")


class ReleaseNotifications(Model):
    """Who hears of releases, through the controller's own notification engine."""

    receiver: DnsLabel = Field(
        description="The monitoring.alerting receiver (slack or webhook) the controller tells "
        "when a release waits at its promotion gate, an analysis fails, a release aborts and "
        "a release completes; its URL comes from that receiver's secret."
    )


class RolloutsController(Model):
    """The Argo Rollouts controller of the cluster, from the vendored chart."""

    namespace: DnsLabel = "argo-rollouts"
    # The chart this project vendors (vendor/helm-charts/); another version needs its archive.
    chart_version: Literal["2.41.0"] = "2.41.0"
    replicas: int = Field(default=2, ge=1, le=5)
    # ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi@sha256:… (v0.15.0).
    gateway_plugin_image: PinnedImage
    notifications: ReleaseNotifications | None = Field(
        default=None,
        description="Release notifications (none when left out; `infractl rollout status` "
        "and the RolloutAborted alert still tell).",
    )

    def deploy_problems(self) -> list[ConfigProblem]:
        """What an offline plan may carry but no deploy may ship: a placeholder digest plans
        fine and cannot start (the init container cannot pull it)."""
        if not is_placeholder_digest(self.gateway_plugin_image):
            return []
        tag = f"{GATEWAY_PLUGIN}:{GATEWAY_PLUGIN_VERSION}"
        return [
            ConfigProblem(
                "rollouts.gatewayPluginImage",
                "the digest is a placeholder that no registry serves, so the Argo Rollouts "
                f"controller cannot start; set it to {GATEWAY_PLUGIN}@<digest> with the digest "
                f"that `crane digest {tag}` prints, after `cosign verify {GATEWAY_PLUGIN}@<digest> "
                "--certificate-identity-regexp "
                "'^https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi/' "
                "--certificate-oidc-issuer https://token.actions.githubusercontent.com` passed",
            )
        ]


# How far ahead an error-budget override may run: it is for an emergency fix, not a standing
# exemption from the gate.
OVERRIDE_HORIZON_DAYS = 14


def today() -> datetime.date:
    """The date overrides are judged by (UTC, as the stack's engine runs anywhere)."""
    return datetime.datetime.now(datetime.UTC).date()


def _expiry(value: str) -> str:
    try:
        date = datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be a date such as 2026-12-24 (got {value!r})") from None
    now = today()
    if date < now:
        raise ValueError(
            f"the override expired on {value}: remove it (the error-budget gate is on again)"
        )
    latest = now + datetime.timedelta(days=OVERRIDE_HORIZON_DAYS)
    if date > latest:
        raise ValueError(
            f"must be at most {OVERRIDE_HORIZON_DAYS} days ahead ({latest}): an override is for "
            f"an emergency fix (got {value})"
        )
    return value


class BudgetOverride(Model):
    """Lets releases of one service through while its error budget is below the floor."""

    reason: Annotated[Text, Field(min_length=10, max_length=300)] = Field(
        description="Why this release may spend budget that is not there (the fix it carries, "
        "who decided); shown in the PR preview and by `infractl rollout status`."
    )
    expires: Annotated[
        str,
        pattern(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "a date such as 2026-12-24"),
        AfterValidator(_expiry),
    ] = Field(
        description=f"The last day (UTC) the override applies, at most {OVERRIDE_HORIZON_DAYS} "
        "days ahead; after it the stack refuses to plan until the override is removed."
    )


class Analysis(Model):
    """Background analysis against Prometheus with the alerts' own expressions."""

    interval: Duration = "1m"
    # Failed measurements tolerated; one more aborts the release.
    failure_limit: int = Field(default=1, ge=0, le=10)
    max_error_ratio: float = Field(gt=0, lt=1)
    max_p95_seconds: MeasurableSeconds
    # The analysis window of each query; at least the interval so no request goes unseen.
    window: Duration = "2m"
    budget_floor: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="The least share of the service's error budgets (monitoring.slo, over "
        "slo.window) that must be left for a release to proceed: below it the analysis fails "
        "and the controller aborts the release (a release freeze).",
    )
    budget_override: BudgetOverride | None = Field(
        default=None,
        description="Lets releases through while the budget is below budgetFloor (the budget "
        "is still measured and shown, in dry-run); needs a reason and an expiry date.",
    )

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
