"""Entry point the Pulumi engine runs; it only constructs the pack (which then serves gRPC)."""

import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

# The Scorecard floor reuses the project's pure predictor (scorecard/, PyYAML only).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tbcoin_policies import ALL_POLICIES, KINDS, PACK_NAME, WAIVABLE, waivers

waivers.install(WAIVABLE, KINDS)  # policies/waivers/<stack>.json, under the engine and offline

PolicyPack(
    name=PACK_NAME,
    policies=ALL_POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Guardrails for tbcoin-platform",
)
