"""`tbcoin-platform:drift`: what the opt-in Drift remediation workflow may put back."""

from __future__ import annotations

from typing import Literal

from infra.config.base import Model


class DriftConfig(Model):
    # The highest drift severity the workflow may remediate with `pulumi up --refresh`: "off"
    # (default), "low" (cosmetic only) or "high". Critical drift is never remediated by it, so
    # "critical" is not a value.
    remediation: Literal["off", "low", "high"] = "off"
