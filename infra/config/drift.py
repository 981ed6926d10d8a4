"""`tbcoin-platform:drift`: what the opt-in Drift remediation workflow may put back."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infra.config.base import Model


class DriftConfig(Model):
    # Critical drift is never remediated by the workflow, so "critical" is not a value.
    remediation: Literal["off", "low", "high"] = Field(
        "off",
        description="The highest drift severity the Drift workflow may put back with `pulumi up "
        "--refresh`: off, low (cosmetic only) or high; critical drift never.",
    )
