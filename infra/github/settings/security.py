"""Security area: vulnerability alerts and Dependabot security updates (secret scanning is a
`Repository` input, see the repository area)."""

from __future__ import annotations

import pulumi_github as github

from infra.github.settings.declaration import Declaration, RepositoryContext


def security(ctx: RepositoryContext) -> list[Declaration]:
    s = ctx.settings.security
    alerts = f"{ctx.name}-vulnerability-alerts"
    return [
        Declaration(
            github.RepositoryVulnerabilityAlerts,
            alerts,
            {"repository": ctx.name, "enabled": s.vulnerability_alerts},
            import_id=ctx.adopted(github.RepositoryVulnerabilityAlerts),
        ),
        Declaration(
            github.RepositoryDependabotSecurityUpdates,
            f"{ctx.name}-dependabot-security-updates",
            {"repository": ctx.name, "enabled": s.dependabot_security_updates},
            # GitHub refuses security updates while alerts are off.
            depends_on=(alerts,),
            import_id=ctx.adopted(github.RepositoryDependabotSecurityUpdates),
        ),
    ]
