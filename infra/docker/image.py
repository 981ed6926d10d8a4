"""Image references for workloads: digests stay digests; `build` builds and pushes the image."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_docker as docker

from infra.config.app import BUILD, AppConfig, BuildConfig, is_digest
from infra.config.model import StackConfig
from infra.secrets import resolve_secret


def image_reference(repository: str, ref: str) -> str:
    """`repo@sha256:…` for a digest, `repo:tag` for a tag (config refuses tags in production)."""
    return f"{repository}@{ref}" if is_digest(ref) else f"{repository}:{ref}"


class AppImage(pulumi.ComponentResource):
    """Builds the app image from its repository checkout and pushes it; exposes its digest ref."""

    repo_digest: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        app: AppConfig,
        build: BuildConfig,
        config: StackConfig,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("tbcoin:docker:AppImage", name, None, opts)
        password = resolve_secret(config, build.registry.password, "app.build.registry.password")
        image = docker.Image(
            name,
            image_name=f"{app.repository}:{build.tag}",
            build=docker.DockerBuildArgs(
                context=build.context, dockerfile=build.dockerfile, platform=build.platform
            ),
            registry=docker.RegistryArgs(
                server=build.registry.server, username=build.registry.username, password=password
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # repoDigest is `<repository>@sha256:…`, unique per push: pods never drift to a new image.
        self.repo_digest = image.repo_digest
        self.register_outputs({"repoDigest": self.repo_digest})


def image_resolver(config: StackConfig, opts: pulumi.ResourceOptions | None = None) -> Any:
    """A function ref -> image value, building the app image at most once."""
    app = config.app
    assert app is not None
    built: list[AppImage] = []

    def resolve(ref: str) -> Any:
        if ref != BUILD:
            return image_reference(app.repository, ref)
        if not built:
            assert app.build is not None
            built.append(AppImage(app.name, app, app.build, config, opts))
        return built[0].repo_digest

    return resolve
