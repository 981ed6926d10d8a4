"""The tbcoin-platform policies, one module per area; `__main__.py` builds the pack from these."""

from tbcoin_policies import github, kubernetes, monitoring
from tbcoin_policies.common import CATALOGUE

PACK_NAME = "tbcoin-platform-guardrails"
ALL_POLICIES = [*github.POLICIES, *kubernetes.POLICIES, *monitoring.POLICIES]

__all__ = ["ALL_POLICIES", "CATALOGUE", "PACK_NAME"]
