"""What a policy check found: the verdict `infractl check` reports and its exit code reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Violation:
    urn: str
    policy: str
    enforcement: str
    severity: str
    message: str
    # The waiver that excused it (reported at advisory level; policies/waivers/<stack>.json).
    waiver: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "policy": self.policy,
            "enforcement": self.enforcement,
            "severity": self.severity,
            "urn": self.urn,
            "message": self.message,
            "waiver": self.waiver,
        }


@dataclass
class ChartVerdict:
    """`check --charts`: findings on rendered chart objects against the reviewed baseline."""

    objects: int
    accepted: int
    new: list[str]


@dataclass
class CheckResult:
    stack: str
    resources: int
    policies: int
    pack: str
    analyzer: dict[str, Any]
    violations: list[Violation] = field(default_factory=list)
    # Policies the policy config turned off: the report says so, a clean run is not all-clear.
    disabled: list[str] = field(default_factory=list)
    charts: ChartVerdict | None = None

    @property
    def waived(self) -> list[Violation]:
        return [v for v in self.violations if v.waiver]

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == "mandatory"]

    @property
    def failed(self) -> bool:
        return bool(self.mandatory or (self.charts and self.charts.new))
