"""Entry point the Pulumi engine runs; it only constructs the pack (which then serves gRPC)."""

from pulumi_policy import EnforcementLevel, PolicyPack

from tbcoin_policies import ALL_POLICIES, PACK_NAME

PolicyPack(
    name=PACK_NAME,
    policies=ALL_POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Guardrails for tbcoin-platform",
)
