"""Entry point the Pulumi engine runs; it only constructs the pack (which then serves gRPC)."""

import gc
import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

# The Scorecard floor reuses the project's pure predictor (scorecard/, PyYAML only).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tbcoin_policies import ALL_POLICIES, KINDS, PACK_NAME, WAIVABLE, conversion, waivers

waivers.install(WAIVABLE, KINDS)  # policies/waivers/<stack>.json, under the engine and offline
conversion.install()  # each request's properties converted once, not once per policy
# AnalyzeStack builds every resource again for each stack policy, and all of it lives until the
# answer is sent: at the default thresholds the cyclic collector rescanned that heap over and
# over (2.4 s of a 200-repository check, measured with gc.callbacks; 0.5 s at these).
gc.set_threshold(50_000, 20, 20)
PolicyPack(
    name=PACK_NAME,
    policies=ALL_POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Guardrails for tbcoin-platform",
)
