"""The tbcoin-platform policies, one module per area; `__main__.py` builds the pack from these."""

from tbcoin_policies import github, kubernetes, monitoring, waivers
from tbcoin_policies.common import CATALOGUE

PACK_NAME = "tbcoin-platform-guardrails"
ALL_POLICIES = [*github.POLICIES, *kubernetes.POLICIES, *monitoring.POLICIES, *waivers.POLICIES]
# Policy name -> whether a waiver may excuse it; and whether it judges one resource or the stack.
WAIVABLE = {name: bool(p["waivable"]) for name, p in CATALOGUE.items()}
KINDS = {name: str(p["kind"]) for name, p in CATALOGUE.items()}

__all__ = ["ALL_POLICIES", "CATALOGUE", "KINDS", "PACK_NAME", "WAIVABLE"]
