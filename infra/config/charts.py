"""Helm charts are installed from the archives vendored in this repository (vendor/helm-charts/,
provenance and refresh in its SOURCES.md), so the archive the tests render is the one deployed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Self

from pydantic import BeforeValidator, Field, model_validator

from infra.config.base import ChartName, ChartRepository, Model, pattern

ROOT = Path(__file__).resolve().parents[2]
VENDORED_CHARTS = "vendor/helm-charts"
# Pulumi.yaml's `main`. The engine starts the program's plugins in this folder, so the provider
# resolves a Release's local chart from here; a bare `vendor/...` is looked up as a chart in a
# repository named `vendor` (seen under the real engine).
PROGRAM_DIR = "infra"


def release_chart(archive: str) -> str:
    """A vendored archive (path from the project root) as a Release's `chart` input: relative to
    the program folder, so the input is the same on every machine."""
    return f"../{archive}"


def release_archive(chart: str, project: Path = ROOT) -> Path:
    """The file a Release's `chart` input names, as the provider resolves it."""
    return (project / PROGRAM_DIR / chart).resolve()


ChartVersion = Annotated[
    str, pattern(r"^v?[0-9]+\.[0-9]+\.[0-9]+$", "an exact chart version such as 88.5.0")
]


class VendoredChart(Model):
    """A Helm chart, `{name, repository, version}`, at an exact version whose archive the
    repository vendors."""

    RENAMED: ClassVar[dict[str, str]] = {"chart": "name (a chart is {name, repository, version})"}

    name: ChartName = Field(description="The chart's name in its repository.")
    repository: ChartRepository = Field(
        description="Where the vendored archive comes from (a refresh pulls a new version "
        "from here)."
    )
    version: ChartVersion = Field(
        description="The exact version; its archive must be vendored in vendor/helm-charts."
    )

    @property
    def release_chart(self) -> str:
        return release_chart(self.archive)

    @property
    def archive(self) -> str:
        """The archive's path from the project root, where Pulumi runs the program (relative,
        so a Release's inputs are the same on every machine)."""
        return f"{VENDORED_CHARTS}/{self.name}-{self.version}.tgz"

    @model_validator(mode="after")
    def _vendored(self) -> Self:
        if not (ROOT / self.archive).is_file():
            raise ValueError(
                f"no chart archive {self.archive} in the repository; vendor it first "
                f"({VENDORED_CHARTS}/SOURCES.md, Refresh)"
            )
        return self


def _chart_mapping(value: object) -> object:
    if isinstance(value, str):  # the old `install: {chart: gateway-helm, version: ...}`
        raise ValueError(
            "must be a chart {name, repository, version}; the chart's name goes in chart.name"
        )
    return value


# How every key that installs a chart takes it.
Chart = Annotated[VendoredChart, BeforeValidator(_chart_mapping)]
