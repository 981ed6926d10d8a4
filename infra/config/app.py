"""The application image and the HTTP contract every workload of it shares."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, model_validator

from infra.config.base import Model, UrlPath, pattern
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
    server: Annotated[str, pattern(r"^[a-z0-9.-]+(:[0-9]+)?$", "a registry host such as ghcr.io")]
    username: Annotated[str, pattern(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$", "a registry user name")]
    password: SecretRef


class BuildConfig(Model):
    """Build and push the image with pulumi-docker during `pulumi up`."""

    # Folders and files on the machine that runs `pulumi up`, relative to the project.
    context: Annotated[str, pattern(r"^[A-Za-z0-9_./-]{1,255}$", "a folder path")]
    dockerfile: Annotated[str, pattern(r"^[A-Za-z0-9_./-]{1,255}$", "a file path")] = "Dockerfile"
    platform: str = Field(default="linux/amd64", pattern=r"^[a-z0-9]+/[a-z0-9]+(/[a-z0-9]+)?$")
    tag: str = Field(default="main", pattern=_TAG.pattern)
    registry: RegistryConfig


class AppConfig(Model):
    name: Annotated[str, pattern(r"^[a-z0-9][-a-z0-9]*$", "a lowercase name")] = "tbcoin-engine-ml"
    # Image repository without tag or digest, e.g. ghcr.io/tbcoin/tbcoin-engine-ml.
    repository: Annotated[
        str,
        pattern(
            r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$",
            "an image repository such as ghcr.io/org/name, without tag or digest",
        ),
    ]
    port: int = Field(default=8000, ge=1024, le=65535)
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
    metrics_path: UrlPath = "/metrics"
    build: BuildConfig | None = None

    @model_validator(mode="after")
    def _probes_differ(self) -> AppConfig:
        # One path for both would restart an overloaded pod instead of resting it.
        if self.readiness_path == self.health_path:
            raise ValueError(
                "readinessPath must differ from healthPath: an overloaded pod must be taken out "
                "of rotation (readiness), not restarted (liveness)"
            )
        return self
