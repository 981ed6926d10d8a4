"""Labels every object of the project carries (recommended `app.kubernetes.io/*` set)."""

from __future__ import annotations

PART_OF = "tbcoin-platform"
MANAGED_BY = "pulumi"
ENVIRONMENT = "tbcoin.io/environment"


def common_labels(environment: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        ENVIRONMENT: environment,
    }
