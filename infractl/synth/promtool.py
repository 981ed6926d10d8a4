"""promtool unit-test files for the rule files synth writes: one test group per case that each
alert states beside its definition (infra/monitoring/rules.py)."""

from __future__ import annotations

from typing import Any

from infra.config.monitoring import MonitoringConfig
from infra.monitoring.rules import alerts
from infra.monitoring.target import MonitoredService


def _render(template: str, labels: dict[str, str]) -> str:
    for key, value in labels.items():
        template = template.replace(f"{{{{ $labels.{key} }}}}", value)
    return template


def promtool_tests(svc: MonitoredService, m: MonitoringConfig, rule_file: str) -> dict[str, Any]:
    """The promtool test document for one service's rule file."""
    groups = []
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
            groups.append(
                {
                    "name": f"{alert.name}: {case.name}",
                    "interval": "1m",
                    "input_series": [{"series": s, "values": v} for s, v in case.series.items()],
                    "alert_rule_test": [
                        {
                            "eval_time": case.eval_time,
                            "alertname": alert.name,
                            "exp_alerts": expected,
                        }
                    ],
                }
            )
    return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": groups}
