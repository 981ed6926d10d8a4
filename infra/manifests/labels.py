"""Labels every object of the project carries (the recommended `app.kubernetes.io/*` set), and
the project's own annotations."""

from __future__ import annotations

PART_OF = "tbcoin-platform"
MANAGED_BY = "pulumi"
ENVIRONMENT = "tbcoin.io/environment"
NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
# Which copy of a service a pod belongs to: main (rolling), blue/green, stable/canary.
TRACK = "tbcoin.io/track"
# On the one Service per service whose endpoints the ServiceMonitor scrapes (each pod once).
SCRAPE = "tbcoin.io/scrape"
# On an AnalysisTemplate whose error-budget gate is overridden: "until <date>: <reason>".
BUDGET_OVERRIDE = "tbcoin.io/budget-override"


def common_labels(environment: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        ENVIRONMENT: environment,
    }


def service_selector(app: str, service: str) -> dict[str, str]:
    """Selects every pod of one service, whatever its track."""
    return {NAME: app, INSTANCE: service}


def track_selector(app: str, service: str, track: str) -> dict[str, str]:
    return {**service_selector(app, service), TRACK: track}
