"""One check's prediction."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from scorecard.source import RISK

MAX_SCORE = 10
INCONCLUSIVE = -1


@dataclass
class CheckResult:
    """`score` is 0-10, -1 when Scorecard would call it inconclusive (left out of the aggregate),
    or None when the settings do not decide it; then `low`/`high` bound it."""

    name: str
    score: int | None
    reason: str
    follows: str  # the Scorecard function the rule re-expresses
    details: list[str] = field(default_factory=list)
    to_raise: list[str] = field(default_factory=list)
    low: int = 0
    high: int = MAX_SCORE

    @property
    def risk(self) -> str:
        return RISK[self.name]

    @property
    def predictable(self) -> bool:
        return self.score is not None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["risk"] = self.risk
        data["predictable"] = self.predictable
        if self.predictable:
            data["low"] = data["high"] = self.score
        return data


def proportional_weighted(groups: list[tuple[int, int, int]]) -> int:
    """checker.CreateProportionalScoreWeighted over (pinned, total, weight) groups."""
    weighted_success = weighted_total = 0
    counted = weighted = False
    for success, total, weight in groups:
        if total == 0:
            continue
        counted = True
        weighted = weighted or weight != 0
        weighted_success += success * weight
        weighted_total += total * weight
    if not counted:
        return INCONCLUSIVE
    if not weighted:
        return MAX_SCORE
    return min(MAX_SCORE * weighted_success // weighted_total, MAX_SCORE)
