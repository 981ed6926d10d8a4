"""The application image and the HTTP contract every workload of it shares."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, model_validator

from infra.config.base import Integer, Model, UrlPath, pattern
from infra.config.secrets import SecretRef

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
BUILD = "build"
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")

# How config names an image: a digest in the app repository, "build" (the image this stack
# builds), or a tag (staging only; the policy pack and the config check refuse tags in production).
ImageRef = Annotated[
    str,
    pattern(
        r"^(sha256:[0-9a-f]{64}|build|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$",
        "an image digest (sha256:<64 hex digits>), 'build', or a tag",
    ),
]


def is_digest(ref: str) -> bool:
    return bool(DIGEST.fullmatch(ref))


def is_tag(ref: str) -> bool:
    return ref != BUILD and not is_digest(ref) and bool(_TAG.fullmatch(ref))


class RegistryConfig(Model):
    server: Annotated[
        str, pattern(r"^[a-z0-9.-]+(:[0-9]+)?$", "a registry host such as ghcr.io")
    ] = Field(description="The registry the built image is pushed to, such as ghcr.io.")
    username: Annotated[
        str, pattern(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$", "a registry user name")
    ] = Field(description="The user that pushes the image.")
    password: SecretRef = Field(description="The registry password or token: a secret reference.")


class BuildConfig(Model):
    """Build and push the image with pulumi-docker during `pulumi up`."""

    context: Annotated[str, pattern(r"^[A-Za-z0-9_./-]{1,255}$", "a folder path")] = Field(
        description="The build context: a folder on the machine that runs `pulumi up`, "
        "relative to the project."
    )
    dockerfile: Annotated[str, pattern(r"^[A-Za-z0-9_./-]{1,255}$", "a file path")] = Field(
        "Dockerfile", description="The Dockerfile, relative to the project."
    )
    platform: str = Field(
        default="linux/amd64",
        pattern=r"^[a-z0-9]+/[a-z0-9]+(/[a-z0-9]+)?$",
        description="The platform the image is built for (os/arch).",
    )
    tag: str = Field(
        default="main", pattern=_TAG.pattern, description="The tag the built image is pushed as."
    )
    registry: RegistryConfig = Field(description="Where the built image is pushed.")


class AppConfig(Model):
    name: Annotated[str, pattern(r"^[a-z0-9][-a-z0-9]*$", "a lowercase name")] = Field(
        "tbcoin-engine-ml", description="The app's name, in labels and object names."
    )
    repository: Annotated[
        str,
        pattern(
            r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$",
            "an image repository such as ghcr.io/org/name, without tag or digest",
        ),
    ] = Field(description="The image repository without tag or digest (ghcr.io/org/name).")
    port: Integer = Field(
        default=8000, ge=1024, le=65535, description="The port the app's container listens on."
    )
    health_path: UrlPath = Field(
        default="/health",
        description="Path the app answers while its process is sound: startup and liveness "
        "probes; failing it restarts the pod.",
    )
    readiness_path: UrlPath = Field(
        default="/ready",
        description="Path the app answers while it can take traffic: the readiness probe; "
        "failing it takes the pod out of rotation, without a restart.",
    )
    metrics_path: UrlPath = Field(
        "/metrics", description="The path Prometheus scrapes the app's metrics from."
    )
    build: BuildConfig | None = Field(
        None, description="Build and push the image during `pulumi up` (unset: never build)."
    )

    @model_validator(mode="after")
    def _probes_differ(self) -> AppConfig:
        # One path for both would restart an overloaded pod instead of resting it.
        if self.readiness_path == self.health_path:
            raise ValueError(
                "readinessPath must differ from healthPath: an overloaded pod must be taken out "
                "of rotation (readiness), not restarted (liveness)"
            )
        return self
