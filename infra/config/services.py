"""Services of the app and how each is released: rolling (a Deployment), or blue-green or
canary (an Argo Rollout)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from infra.config.app import ImageRef
from infra.config.base import (
    DnsLabel,
    Duration,
    Integer,
    Model,
    PercentRatio,
    UrlPath,
    Within,
    pattern,
)
from infra.config.errors import at, register_union_tags
from infra.config.gateway import gateway_path
from infra.config.resources import Resources
from infra.config.rollouts import Analysis, CanaryStep, Promotion


class Autoscaling(Model):
    max_replicas: Integer = Field(ge=2, le=200, description="The most replicas it scales up to.")
    target_cpu_utilization: PercentRatio = Field(
        default=0.7,
        ge=0.1,
        le=1,
        description="The average CPU use, as a ratio of the request, the autoscaler keeps pods at.",
    )


# The workload each strategy is released as: a Deployment, or a Rollout run by the Argo Rollouts
# controller (which the stack must then install). Stated once, on the strategy; infra/release.py
# and the config's own cross-checks read it.
Kind = Literal["Deployment", "Rollout"]
DEPLOYMENT: Kind = "Deployment"
ROLLOUT: Kind = "Rollout"


class Rolling(Model):
    KIND: ClassVar[Kind] = DEPLOYMENT
    type: Literal["rolling"] = Field(description="A Deployment, updated pod by pod.")
    image: ImageRef = Field(
        description="The image to run: a digest (sha256:...) in app.repository, 'build' (the "
        "image this stack builds), or a tag (not in production)."
    )


class BlueGreen(Model):
    """An Argo Rollout: the new image starts as the preview, is analysed, then promoted."""

    KIND: ClassVar[Kind] = ROLLOUT
    RENAMED: ClassVar[dict[str, str]] = {
        "scaleDownDelaySeconds": "scaleDownDelay, a duration such as 10m"
    }

    type: Literal["blueGreen"] = Field(
        description="An Argo Rollout: the new image runs as the preview, is analysed, then "
        "promoted."
    )
    image: ImageRef = Field(
        description="The image to run: a digest (sha256:...) in app.repository, 'build' (the "
        "image this stack builds), or a tag (not in production)."
    )
    promotion: Promotion = Field(
        default_factory=Promotion, description="How the preview becomes the active color."
    )
    scale_down_delay: Annotated[Duration, Within("30s", "1d", step="1s")] = Field(
        "10m",
        description="How long the old color keeps running after promotion: the window for an "
        "instant rollback.",
    )
    analysis: Analysis = Field(description="What the preview is measured against before promotion.")


class CanaryHeader(Model):
    name: Annotated[str, pattern(r"^[A-Za-z0-9-]{1,100}$", "a header name")] = Field(
        "x-canary", description="The request header that sends a request to the canary."
    )
    # Compared with the request's header by the Gateway: a plain token, nothing to escape.
    value: Annotated[
        str, pattern(r"^[A-Za-z0-9._~+-]{1,128}$", "a header value of letters, digits, . _ ~ + -")
    ] = Field("always", description="The header's value that sends a request to the canary.")


class Canary(Model):
    """An Argo Rollout: the controller walks `steps`, analysing the canary all along."""

    KIND: ClassVar[Kind] = ROLLOUT
    type: Literal["canary"] = Field(
        description="An Argo Rollout: the new image takes a growing share of traffic, "
        "analysed all along."
    )
    image: ImageRef = Field(
        description="The image to run: a digest (sha256:...) in app.repository, 'build' (the "
        "image this stack builds), or a tag (not in production)."
    )
    steps: list[CanaryStep] = Field(
        min_length=1,
        description="The canary's weights, strictly increasing; every step but the last "
        "pauses for a duration, the last waits for `infractl rollout promote`.",
    )
    max_weight: PercentRatio = Field(
        default=0.5,
        gt=0,
        le=1,
        description="The largest share of traffic the canary reaches before the human gate "
        "(below 1).",
    )
    header: CanaryHeader = Field(
        default_factory=CanaryHeader,
        description="A request header that always reaches the canary during a release.",
    )
    analysis: Analysis = Field(description="What the canary is measured against all along.")

    @model_validator(mode="after")
    def _steps_climb_to_the_gate(self) -> Canary:
        if self.max_weight == 1:
            raise at(
                "maxWeight",
                "must be below 1: at 1 the canary takes all traffic before the human gate; "
                "full traffic comes from `infractl rollout promote`",
            )
        weights = [s.weight for s in self.steps]
        for i in range(1, len(weights)):
            if weights[i] <= weights[i - 1]:
                raise at(
                    f"steps[{i}].weight",
                    f"steps must strictly increase (got {weights[i]:g} after {weights[i - 1]:g})",
                )
        for i, step in enumerate(self.steps):
            if step.weight > self.max_weight:
                raise at(
                    f"steps[{i}].weight",
                    f"above maxWeight {self.max_weight:g}: past it only `infractl rollout "
                    f"promote` moves traffic (got {step.weight:g})",
                )
            if step.pause is None and i != len(self.steps) - 1:
                raise at(f"steps[{i}].pause", "required on every step but the last (the gate)")
        if self.steps[-1].pause is not None:
            raise at(
                f"steps[{len(self.steps) - 1}].pause",
                "the last step is the human gate before full traffic: no duration",
            )
        return self


Strategy = Annotated[Rolling | BlueGreen | Canary, Field(discriminator="type")]
register_union_tags("strategy", ["rolling", "blueGreen", "canary"])


class ServiceConfig(Model):
    environment: DnsLabel = Field(description="The environment the service runs in.")
    path_prefix: Annotated[UrlPath, AfterValidator(gateway_path)] = Field(
        "/", description="The path prefix the environment's Gateway routes to the service."
    )
    replicas: Integer | None = Field(
        default=None,
        ge=1,
        le=50,
        description="How many pods run the service (unset: kubernetes.replicas).",
    )
    resources: Resources = Field(
        default_factory=Resources, description="CPU and memory of each of the service's pods."
    )
    autoscaling: Autoscaling | None = Field(
        None, description="Scale the service on CPU (a HorizontalPodAutoscaler)."
    )
    strategy: Strategy = Field(description="How a new image is released.")
