"""The Scorecard prediction as text, JSON or Markdown (one table per repository)."""

from __future__ import annotations

import json
from typing import Any

from infractl import markdown as md
from scorecard.predict import RepositoryPrediction
from scorecard.result import CheckResult
from scorecard.source import VERSION


def shown(check: CheckResult) -> str:
    if check.score is None:
        return (
            f"? ({check.low}-{check.high})" if check.low >= 0 else f"? (inconclusive-{check.high})"
        )
    return "inconclusive" if check.score < 0 else f"{check.score}/10"


def _aggregate(p: RepositoryPrediction) -> str:
    value = p.aggregate()
    return "n/a" if value is None else f"{value:.1f}"


def summary_line(p: RepositoryPrediction) -> str:
    predictable = sum(c.predictable for c in p.checks)
    return (
        f"{p.name}: predicted Scorecard {_aggregate(p)}/10 over {predictable} predictable checks "
        f"(Scorecard {VERSION} risk weights; {len(p.checks) - predictable} not predictable)"
    )


# Past this many repositories the synth summary groups those with the same prediction.
LISTED_ONE_BY_ONE = 10


def summary_lines(predictions: list[RepositoryPrediction]) -> list[str]:
    """One line per repository; for a large estate one per distinct prediction, with how many
    repositories share it and the first of them."""
    if len(predictions) <= LISTED_ONE_BY_ONE:
        return [summary_line(p) for p in predictions]
    groups: dict[str, list[str]] = {}
    for p in predictions:
        rest = summary_line(p).removeprefix(f"{p.name}: ")
        groups.setdefault(rest, []).append(p.name)
    lines = []
    for rest, names in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        lines.append(f"{len(names)} repositories ({shown}): {rest}")
    return lines


def text(predictions: list[RepositoryPrediction], stack: str) -> str:
    lines = [f"Predicted OpenSSF Scorecard ({VERSION}) for stack '{stack}'"]
    for p in predictions:
        lines.append(summary_line(p))
        width = max(len(c.name) for c in p.checks)
        for c in p.checks:
            lines.append(f"  {c.name:<{width}}  {shown(c):<16} {c.reason}")
            lines += [f"  {'':<{width}}    - {d}" for d in c.details]
            lines += [f"  {'':<{width}}    to raise: {r}" for r in c.to_raise]
        lines += [f"  note: {n}" for n in p.notes]
    return "\n".join(lines)


def as_json(predictions: list[RepositoryPrediction], stack: str) -> str:
    data: dict[str, Any] = {"stack": stack, "repositories": [p.as_dict() for p in predictions]}
    return json.dumps(data, indent=2, sort_keys=True)


def _change(check: CheckResult, base: CheckResult | None) -> str:
    if base is None or check.score is None or base.score is None:
        return ""
    delta = check.score - base.score
    return "" if delta == 0 else f" ({delta:+d} vs base)"


def markdown(
    predictions: list[RepositoryPrediction],
    stack: str,
    base: list[RepositoryPrediction] | None = None,
) -> str:
    base_checks = {(p.name, c.name): c for p in base or [] for c in p.checks}
    base_aggregates = {p.name: p.aggregate() for p in base or []}
    lines = [f"### Predicted OpenSSF Scorecard: stack {md.code(stack, table=False)}", ""]
    for p in predictions:
        now, was = p.aggregate(), base_aggregates.get(p.name)
        change = "" if now is None or was is None or now == was else f" (base {was:.1f})"
        lines += [f"**{md.text(p.name)}**: {_aggregate(p)}/10{change}", ""]
        lines += ["| check | predicted | why |", "|---|---|---|"]
        for c in p.checks:
            lowered = base is not None and (_change(c, base_checks.get((p.name, c.name))) or "")
            lines.append(f"| {c.name} | {shown(c)}{lowered or ''} | {md.text(c.reason)} |")
        lines.append("")
    lines.append(
        f"_Scorecard {VERSION} rules applied to the declared settings and managed files; "
        "`?` checks depend on history or external data. Aggregate over predictable checks._"
    )
    return "\n".join(lines)
