"""Services of the app and how each is released: rolling (a Deployment), or blue-green or
canary (an Argo Rollout)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from infra.config.app import ImageRef
from infra.config.base import DnsLabel, Model, Quantity, UrlPath, pattern, quantity_value
from infra.config.errors import at, register_union_tags
from infra.config.gateway import gateway_path
from infra.config.rollouts import Analysis, CanaryStep, Promotion


class ResourceSpec(Model):
    cpu: Quantity
    memory: Quantity


class Resources(Model):
    requests: ResourceSpec = Field(default_factory=lambda: ResourceSpec(cpu="250m", memory="256Mi"))
    limits: ResourceSpec = Field(default_factory=lambda: ResourceSpec(cpu="1", memory="1Gi"))

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        # The API server refuses a container whose request exceeds its limit.
        for kind in ("cpu", "memory"):
            request, limit = getattr(self.requests, kind), getattr(self.limits, kind)
            if quantity_value(request) > quantity_value(limit):
                raise at(f"requests.{kind}", f"{request} is above the limit {limit}")
        return self


class Autoscaling(Model):
    max_replicas: int = Field(ge=2, le=200)
    target_cpu_utilization: int = Field(default=70, ge=10, le=100)


# The workload each strategy is released as: a Deployment, or a Rollout run by the Argo Rollouts
# controller (which the stack must then install). Stated once, on the strategy; infra/release.py
# and the config's own cross-checks read it.
Kind = Literal["Deployment", "Rollout"]
DEPLOYMENT: Kind = "Deployment"
ROLLOUT: Kind = "Rollout"


class Rolling(Model):
    KIND: ClassVar[Kind] = DEPLOYMENT
    type: Literal["rolling"]
    image: ImageRef


class BlueGreen(Model):
    """An Argo Rollout: the new image starts as the preview, is analysed, then promoted."""

    KIND: ClassVar[Kind] = ROLLOUT
    type: Literal["blueGreen"]
    image: ImageRef
    promotion: Promotion = Field(default_factory=Promotion)
    # The old color keeps running this long after promotion: the instant-rollback window.
    scale_down_delay_seconds: int = Field(default=600, ge=30, le=86400)
    analysis: Analysis


class CanaryHeader(Model):
    name: Annotated[str, pattern(r"^[A-Za-z0-9-]{1,100}$", "a header name")] = "x-canary"
    # Compared with the request's header by the Gateway: a plain token, nothing to escape.
    value: Annotated[
        str, pattern(r"^[A-Za-z0-9._~+-]{1,128}$", "a header value of letters, digits, . _ ~ + -")
    ] = "always"


class Canary(Model):
    """An Argo Rollout: the controller walks `steps`, analysing the canary all along."""

    KIND: ClassVar[Kind] = ROLLOUT
    type: Literal["canary"]
    image: ImageRef
    steps: list[CanaryStep] = Field(min_length=1)
    # The highest weight reached without an explicit promotion (policy pack checks it).
    max_weight: int = Field(default=50, ge=1, le=100)
    header: CanaryHeader = Field(default_factory=CanaryHeader)
    analysis: Analysis

    @model_validator(mode="after")
    def _steps_climb_to_the_gate(self) -> Canary:
        if self.max_weight == 100:
            raise at(
                "maxWeight",
                "must be below 100: at 100 the canary takes all traffic before the human gate; "
                "full traffic comes from `infractl rollout promote`",
            )
        weights = [s.weight for s in self.steps]
        for i in range(1, len(weights)):
            if weights[i] <= weights[i - 1]:
                raise at(
                    f"steps[{i}].weight",
                    f"steps must strictly increase (got {weights[i]} after {weights[i - 1]})",
                )
        for i, step in enumerate(self.steps):
            if step.weight > self.max_weight:
                raise at(
                    f"steps[{i}].weight",
                    f"above maxWeight {self.max_weight}: past it only `infractl rollout "
                    f"promote` moves traffic (got {step.weight})",
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
    environment: DnsLabel
    path_prefix: Annotated[UrlPath, AfterValidator(gateway_path)] = "/"
    replicas: int | None = Field(default=None, ge=1, le=50)
    resources: Resources = Field(default_factory=Resources)
    autoscaling: Autoscaling | None = None
    strategy: Strategy
