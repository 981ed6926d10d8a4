"""Helm charts are installed from the archives vendored in this repository (vendor/helm-charts/,
provenance and refresh in its SOURCES.md), so the archive the tests render is the one deployed."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import model_validator

from infra.config.base import ChartName, ChartRepository, Model

ROOT = Path(__file__).resolve().parents[2]
VENDORED_CHARTS = "vendor/helm-charts"


class VendoredChart(Model):
    """A chart at an exact version whose archive the repository vendors."""

    chart: ChartName
    # Where the vendored archive comes from (a refresh pulls the new version from here).
    repository: ChartRepository
    version: str

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
