"""Services of the app and how each is released: rolling, blue-green or canary."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from infra.config.app import ImageRef
from infra.config.base import DnsLabel, Model, Quantity, UrlPath, pattern, quantity_value
from infra.config.errors import at, register_union_tags

Color = Literal["blue", "green"]


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


class Rolling(Model):
    type: Literal["rolling"]
    image: ImageRef


class BlueGreen(Model):
    type: Literal["blueGreen"]
    active_color: Color
    blue: ImageRef
    green: ImageRef
    # Replicas the idle color keeps: the service's replicas keeps it warm, 0 scales it down.
    idle_replicas: int = Field(ge=0, le=50)

    def idle_color(self) -> Color:
        return "green" if self.active_color == "blue" else "blue"


class CanaryHeader(Model):
    name: Annotated[str, pattern(r"^[A-Za-z0-9-]{1,100}$", "a header name")] = "x-canary"
    # Compared with the request's header by the Gateway: a plain token, nothing to escape.
    value: Annotated[
        str, pattern(r"^[A-Za-z0-9._~+-]{1,128}$", "a header value of letters, digits, . _ ~ + -")
    ] = "always"


class Canary(Model):
    type: Literal["canary"]
    stable: ImageRef
    canary: ImageRef
    # Percent of traffic the canary gets now; 0 or one of `steps`.
    weight: int = Field(ge=0, le=100)
    steps: list[int] = Field(min_length=1)
    # The highest weight allowed without an explicit promotion (policy pack checks it).
    max_weight: int = Field(default=50, ge=1, le=100)
    canary_replicas: int = Field(default=1, ge=1, le=50)
    header: CanaryHeader = Field(default_factory=CanaryHeader)

    @field_validator("steps")
    @classmethod
    def _steps_climb_to_100(cls, steps: list[int]) -> list[int]:
        if any(not 1 <= s <= 100 for s in steps):
            raise ValueError(f"every step must be within 1..100, got {steps}")
        if steps != sorted(set(steps)):
            raise ValueError(f"steps must strictly increase, got {steps}")
        if steps[-1] != 100:
            raise ValueError(f"the last step must be 100 (full promotion), got {steps}")
        return steps

    @model_validator(mode="after")
    def _weight_on_a_step(self) -> Canary:
        if self.weight != 0 and self.weight not in self.steps:
            raise at("weight", f"must be 0 or one of the steps {self.steps} (got {self.weight})")
        return self


Strategy = Annotated[Rolling | BlueGreen | Canary, Field(discriminator="type")]
register_union_tags("strategy", ["rolling", "blueGreen", "canary"])


class ServiceConfig(Model):
    environment: DnsLabel
    path_prefix: UrlPath = "/"
    replicas: int | None = Field(default=None, ge=1, le=50)
    resources: Resources = Field(default_factory=Resources)
    autoscaling: Autoscaling | None = None
    strategy: Strategy
