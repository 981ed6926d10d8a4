"""Helm charts are installed from the archives vendored in this repository (vendor/helm-charts/,
provenance and refresh in its SOURCES.md), so the archive the tests render is the one deployed."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import model_validator

from infra.config.base import ChartName, ChartRepository, Model

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


class VendoredChart(Model):
    """A chart at an exact version whose archive the repository vendors."""

    chart: ChartName
    # Where the vendored archive comes from (a refresh pulls the new version from here).
    repository: ChartRepository
    version: str

    @property
    def release_chart(self) -> str:
        return release_chart(self.archive)

    @property
    def archive(self) -> str:
        """The archive's path from the project root, where Pulumi runs the program (relative,
        so a Release's inputs are the same on every machine)."""
        return f"{VENDORED_CHARTS}/{self.chart}-{self.version}.tgz"

    @model_validator(mode="after")
    def _vendored(self) -> Self:
        if not (ROOT / self.archive).is_file():
            raise ValueError(
                f"no chart archive {self.archive} in the repository; vendor it first "
                f"({VENDORED_CHARTS}/SOURCES.md, Refresh)"
            )
        return self
