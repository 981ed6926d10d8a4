"""Policy check reports: a terminal, a machine, and a pull request each get their own form."""

from __future__ import annotations

import json
from itertools import groupby

from infractl.markdown import code, text
from infractl.policy.results import ChartVerdict, CheckResult, Violation

STACK_LEVEL = "(stack)"


def _grouped(result: CheckResult) -> list[tuple[str, list[Violation]]]:
    ordered = sorted(result.violations, key=lambda v: (v.urn or STACK_LEVEL, v.policy, v.message))
    return [(urn or STACK_LEVEL, list(vs)) for urn, vs in groupby(ordered, key=lambda v: v.urn)]


def _counts(result: CheckResult) -> str:
    mandatory = len(result.mandatory)
    advisory = sum(v.enforcement == "advisory" and not v.waiver for v in result.violations)
    waived = f", {len(result.waived)} waived" if result.waived else ""
    return f"{mandatory} mandatory, {advisory} advisory{waived}"


def _level(v: Violation) -> str:
    """A waived violation is sent at advisory level; the report says why it is not counted."""
    return "waived" if v.waiver else v.enforcement


def _charts_line(charts: ChartVerdict) -> str:
    return (
        f"charts: {charts.objects} rendered objects, {charts.accepted} accepted finding(s) "
        f"(policies/chart-baseline.yaml), {len(charts.new)} new"
    )


def text_report(result: CheckResult) -> str:
    lines = [
        f"Policy check of stack '{result.stack}': {result.resources} resources, "
        f"{result.policies} policies ({result.pack}, run as pid {result.analyzer['pid']} "
        f"on port {result.analyzer['port']})"
    ]
    for urn, violations in _grouped(result):
        lines.append(f"  {urn}")
        for v in violations:
            lines.append(f"    [{_level(v)}] {v.policy} ({v.severity}): {v.message}")
    if result.disabled:
        lines.append(f"disabled by the policy config: {', '.join(result.disabled)}")
    if result.charts:
        lines.append(_charts_line(result.charts))
        lines += [f"  {line}" for line in result.charts.new]
    verdict = "FAILED" if result.failed else "passed"
    lines.append(f"{verdict}: {_counts(result)} violation(s)")
    return "\n".join(lines)


def json_report(result: CheckResult) -> str:
    document = {
        "stack": result.stack,
        "resources": result.resources,
        "policies": result.policies,
        "pack": result.pack,
        "analyzer": result.analyzer,
        "violations": [v.as_json() for v in result.violations],
        "disabled": result.disabled,
    }
    if result.charts:
        document["charts"] = {
            "objects": result.charts.objects,
            "accepted": result.charts.accepted,
            "new": result.charts.new,
        }
    return json.dumps(document, indent=2, sort_keys=True)


def markdown_report(result: CheckResult) -> str:
    """For a PR: names, policies and messages (which quote config values) are escaped."""
    icon = ":x:" if result.failed else ":white_check_mark:"
    lines = [
        f"### {icon} Policy check: {code(result.stack, table=False)}",
        "",
        f"{result.resources} resources, {result.policies} policies, {_counts(result)} "
        "violation(s).",
    ]
    if result.disabled:
        names = ", ".join(code(name, table=False) for name in result.disabled)
        lines += ["", f"Disabled by the policy config: {names}."]
    if result.charts:
        lines += ["", text(_charts_line(result.charts)) + "."]
        lines += [f"- {text(line, limit=1000)}" for line in result.charts.new]
    if result.violations:
        lines += ["", "| resource | policy | level | severity | message |", "|---|---|---|---|---|"]
        for urn, violations in _grouped(result):
            name = urn.rsplit("::", 1)[-1] if urn != STACK_LEVEL else urn
            for v in violations:
                lines.append(
                    f"| {code(name)} | {code(v.policy)} | {text(_level(v))} | "
                    f"{text(v.severity)} | {text(v.message, limit=1000)} |"
                )
    return "\n".join(lines) + "\n"


FORMATS = {"text": text_report, "json": json_report, "markdown": markdown_report}
