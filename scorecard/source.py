"""Which Scorecard release the prediction follows, and its check metadata (docs/checks.md)."""

from __future__ import annotations

VERSION = "v5.5.0"
COMMIT = "c395761df6afe1a69e476bc60a013a94bcbc153f"

# Risk of each default check (docs/checks/internal/checks.yaml) and the weight
# pkg/scorecard/scorecard_result.go GetAggregateScore gives each risk.
RISK = {
    "Binary-Artifacts": "High",
    "Branch-Protection": "High",
    "CI-Tests": "Low",
    "CII-Best-Practices": "Low",
    "Code-Review": "High",
    "Contributors": "Low",
    "Dangerous-Workflow": "Critical",
    "Dependency-Update-Tool": "High",
    "Fuzzing": "Medium",
    "License": "Low",
    "Maintained": "High",
    "Packaging": "Medium",
    "Pinned-Dependencies": "Medium",
    "SAST": "Medium",
    "Security-Policy": "Medium",
    "Signed-Releases": "High",
    "Token-Permissions": "High",
    "Vulnerabilities": "High",
}
RISK_WEIGHT = {"Critical": 10.0, "High": 7.5, "Medium": 5.0, "Low": 2.5}
