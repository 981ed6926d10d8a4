"""promtool unit-test files for the rule files synth writes: one test group per case that each
alert states beside its definition (infra/monitoring/rules.py)."""

from __future__ import annotations

from typing import Any

from infra.config.monitoring import MonitoringConfig
from infra.monitoring.rules import alerts, budget_cases, prometheus_rule_spec
from infra.monitoring.target import MonitoredService


def _render(template: str, labels: dict[str, str]) -> str:
    for key, value in labels.items():
        template = template.replace(f"{{{{ $labels.{key} }}}}", value)
    return template


def _group(name: str, series: dict[str, str], step: str) -> dict[str, Any]:
    return {
        "name": name,
        "interval": step,
        "input_series": [{"series": s, "values": v} for s, v in series.items()],
    }


def promtool_tests(
    svc: MonitoredService, m: MonitoringConfig, rule_file: str
) -> dict[str, dict[str, Any]]:
    """The promtool test documents for one service's rule file, by evaluation step: cases over
    days are evaluated every few minutes, not every minute (promtool evaluates every rule at
    every step)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts(svc, m):
        rule = alert.rule(m.runbook_base_url, svc.name)
        for case in alert.cases:
            expected: list[dict[str, Any]] = []
            if case.fires:
                labels = {**case.labels, **rule["labels"]}
                expected.append(
                    {
                        "exp_labels": labels,
                        "exp_annotations": {
                            k: _render(v, labels) for k, v in rule["annotations"].items()
                        },
                    }
                )
            group = _group(f"{alert.name}: {case.name}", case.series, case.step)
            group["alert_rule_test"] = [
                {"eval_time": case.eval_time, "alertname": alert.name, "exp_alerts": expected}
            ]
            groups.setdefault(case.step, []).append(group)
    for check in budget_cases(svc, m):
        group = _group(check.name, check.series, check.step)
        shown = ", ".join(f'{k}="{v}"' for k, v in sorted(check.labels.items()))
        group["promql_expr_test"] = [
            {
                "expr": f"round({check.expr}, 0.000001)",
                "eval_time": check.eval_time,
                "exp_samples": [{"labels": f"{{{shown}}}", "value": round(check.value, 6)}],
            }
        ]
        groups.setdefault(check.step, []).append(group)
    # Each step evaluates the groups in the order they feed each other: with steps longer than
    # the query lookback, an alert evaluated before the records it reads would see none.
    order = [g["name"] for g in prometheus_rule_spec(svc, m)["groups"]]
    return {
        step: {
            "rule_files": [rule_file],
            "evaluation_interval": step,
            "group_eval_order": order,
            "tests": tests,
        }
        for step, tests in groups.items()
    }
